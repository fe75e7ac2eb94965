-- What PostGraphile needs beyond the tables, in its own schema of the benchmark database only
-- (never in the segments-api migrations): the Unassigned folder as a set-returning function
-- (exposed as a connection with totalCount and cursors) and the two write workloads as
-- mutation functions, each one transaction like segments-api's mutations.
CREATE SCHEMA IF NOT EXISTS postgraphile_bench;

CREATE OR REPLACE FUNCTION postgraphile_bench.unassigned_influencers(ws bigint)
RETURNS SETOF public.influencer LANGUAGE sql STABLE AS $$
  SELECT i.* FROM public.influencer i
  WHERE i.workspace_id = ws
    AND NOT EXISTS (SELECT 1 FROM public.segment_membership m WHERE m.influencer_id = i.id)
  ORDER BY i.id
$$;

-- A segment's members and a campaign's recipients (influencers in any of its audience segments,
-- each once), as connections in influencer id order.
CREATE OR REPLACE FUNCTION postgraphile_bench.segment_members(ws bigint, seg bigint)
RETURNS SETOF public.influencer LANGUAGE sql STABLE AS $$
  SELECT i.* FROM public.influencer i
  JOIN public.segment_membership m ON m.workspace_id = i.workspace_id AND m.influencer_id = i.id
  WHERE i.workspace_id = ws AND m.segment_id = seg
  ORDER BY i.id
$$;

CREATE OR REPLACE FUNCTION postgraphile_bench.campaign_recipients(ws bigint, campaign bigint)
RETURNS SETOF public.influencer LANGUAGE sql STABLE AS $$
  SELECT i.* FROM public.influencer i
  WHERE i.workspace_id = ws
    AND EXISTS (SELECT 1 FROM public.segment_membership m
                JOIN public.campaign_audience a
                  ON a.workspace_id = m.workspace_id AND a.segment_id = m.segment_id
                WHERE m.workspace_id = ws AND a.campaign_id = campaign AND m.influencer_id = i.id)
  ORDER BY i.id
$$;

-- The checks both membership mutations make: at most 10,000 ids, the segment and every
-- influencer the workspace's. Hidden from the API (`@omit`).
CREATE OR REPLACE FUNCTION postgraphile_bench.checked_segment(
  workspace bigint, target_segment bigint, influencer_ids bigint[])
RETURNS public.segment LANGUAGE plpgsql STABLE AS $$
DECLARE
  seg public.segment;
  found_ids int;
BEGIN
  IF cardinality(influencer_ids) > 10000 THEN
    RAISE EXCEPTION 'at most 10,000 influencer ids';
  END IF;
  SELECT * INTO seg FROM public.segment s WHERE s.id = target_segment AND s.workspace_id = workspace;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no segment has this id';
  END IF;
  SELECT count(*) INTO found_ids FROM public.influencer i
  WHERE i.workspace_id = workspace AND i.id = ANY (influencer_ids);
  IF found_ids <> (SELECT count(DISTINCT x) FROM unnest(influencer_ids) x) THEN
    RAISE EXCEPTION 'no influencer has this id';
  END IF;
  RETURN seg;
END
$$;
COMMENT ON FUNCTION postgraphile_bench.checked_segment(bigint, bigint, bigint[]) IS E'@omit';

CREATE OR REPLACE FUNCTION postgraphile_bench.assign_to_segment(
  workspace bigint, target_segment bigint, influencer_ids bigint[])
RETURNS public.segment LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  seg public.segment := postgraphile_bench.checked_segment(workspace, target_segment, influencer_ids);
BEGIN
  INSERT INTO public.segment_membership (segment_id, influencer_id, workspace_id, assigned_at, source)
  SELECT seg.id, x, workspace, date_trunc('microseconds', now()), 'MANUAL'
  FROM unnest(influencer_ids) x
  ON CONFLICT DO NOTHING;
  RETURN seg;
END
$$;

-- Deletes the memberships of the ids named.
CREATE OR REPLACE FUNCTION postgraphile_bench.remove_from_segment(
  workspace bigint, target_segment bigint, influencer_ids bigint[])
RETURNS public.segment LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  seg public.segment := postgraphile_bench.checked_segment(workspace, target_segment, influencer_ids);
BEGIN
  DELETE FROM public.segment_membership m
  WHERE m.workspace_id = workspace AND m.segment_id = seg.id AND m.influencer_id = ANY (influencer_ids);
  RETURN seg;
END
$$;

CREATE OR REPLACE FUNCTION postgraphile_bench.record_engagement(
  workspace bigint, target_campaign bigint, target_influencer bigint, engagement text)
RETURNS public.engagement_event LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  ev public.engagement_event;
BEGIN
  PERFORM 1 FROM public.campaign c WHERE c.id = target_campaign AND c.workspace_id = workspace;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no campaign has this id';
  END IF;
  PERFORM 1 FROM public.influencer i WHERE i.id = target_influencer AND i.workspace_id = workspace;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no influencer has this id';
  END IF;
  INSERT INTO public.engagement_event
    (workspace_id, campaign_id, influencer_id, kind, occurred_at, external_id, recorded_at)
  VALUES (workspace, target_campaign, target_influencer, engagement,
          date_trunc('microseconds', now()), NULL, date_trunc('microseconds', now()))
  RETURNING * INTO ev;
  -- The campaign's enabled automations for this kind file the influencer into their segments.
  INSERT INTO public.segment_membership
    (segment_id, influencer_id, workspace_id, assigned_at, source, automation_id)
  SELECT a.segment_id, target_influencer, workspace, date_trunc('microseconds', now()),
         'AUTOMATION', a.id
  FROM public.automation a
  WHERE a.campaign_id = target_campaign AND a.workspace_id = workspace
    AND a.trigger = engagement AND a.enabled AND a.segment_id IS NOT NULL
  ON CONFLICT DO NOTHING;
  RETURN ev;
END
$$;
