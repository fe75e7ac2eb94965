import { useMutation, useQuery, useSubscription } from '@apollo/client';
import { useState } from 'react';

import { ASSIGN, CHANGES, MEMBERS, ROSTER, SEGMENTS, UNASSIGNED } from './queries.js';

/** The folders: everyone, the Unassigned folder, then each segment with its member count. */
function Folders({ folder, setFolder }) {
  const segments = useQuery(SEGMENTS);
  const unassigned = useQuery(UNASSIGNED);
  const pick = (next) => () => setFolder(next);
  return (
    <nav aria-label="folders">
      <button aria-current={folder.kind === 'all'} onClick={pick({ kind: 'all' })}>
        <span>All influencers</span>
      </button>
      <button aria-current={folder.kind === 'unassigned'} onClick={pick({ kind: 'unassigned' })}>
        <span>Unassigned</span>
        <span data-count="unassigned">{unassigned.data?.unassigned.totalCount ?? '…'}</span>
      </button>
      {segments.error && <p className="error">{segments.error.message}</p>}
      {segments.data?.segments.edges.map(({ node }) => (
        <button
          key={node.id}
          data-segment={node.name}
          aria-current={folder.kind === 'segment' && folder.id === node.id}
          onClick={pick({ kind: 'segment', id: node.id })}
        >
          <span>{node.name}</span>
          <span data-count={node.name}>{node.memberCount}</span>
        </button>
      ))}
      {segments.data?.segments.pageInfo.hasNextPage && (
        <button onClick={() => segments.fetchMore({ variables: { after: segments.data.segments.pageInfo.endCursor } })}>
          More segments…
        </button>
      )}
    </nav>
  );
}

/** The query of a folder, and where its connection is in the answer. */
function useFolder(folder, search) {
  const roster = useQuery(ROSTER, { variables: { search: search || null }, skip: folder.kind !== 'all' });
  const unassigned = useQuery(UNASSIGNED, { skip: folder.kind !== 'unassigned' });
  const members = useQuery(MEMBERS, { variables: { id: folder.id }, skip: folder.kind !== 'segment' });
  if (folder.kind === 'unassigned') return [unassigned, unassigned.data?.unassigned];
  if (folder.kind === 'segment') return [members, members.data?.segment?.influencers];
  return [roster, roster.data?.influencers];
}

/** Assigns the selected influencers to an existing segment, or to one made on the spot. */
function AssignBar({ selected, done }) {
  const segments = useQuery(SEGMENTS);
  const [target, setTarget] = useState('new');
  const [name, setName] = useState('');
  const [problem, setProblem] = useState(null);
  const [assign, { loading }] = useMutation(ASSIGN, {
    // A segment made inline joins the folder list; everything else the answer carries (the
    // count, each influencer's segments) updates the cache by id.
    update(cache, { data }) {
      const segment = data?.assignToSegment.segment;
      if (!segment) return;
      cache.modify({
        fields: {
          segments(existing, { readField, toReference }) {
            if (!existing?.edges || existing.edges.some((edge) => readField('id', edge.node) === segment.id)) return existing;
            return { ...existing, edges: [...existing.edges, { __typename: 'SegmentEdge', cursor: '', node: toReference(segment) }] };
          },
        },
      });
    },
  });
  const submit = async (event) => {
    event.preventDefault();
    setProblem(null);
    const segment = target === 'new' ? { create: { name: name.trim() } } : { id: target };
    const { data } = await assign({ variables: { influencerIds: [...selected], segment } });
    const errors = data?.assignToSegment.userErrors ?? [];
    if (errors.length) setProblem(errors.map((e) => e.message).join('; '));
    else {
      setName('');
      done();
    }
  };
  return (
    <form className="bar" onSubmit={submit} aria-label="assign">
      <span>{selected.size} selected</span>
      <select name="target" value={target} onChange={(e) => setTarget(e.target.value)}>
        <option value="new">New segment…</option>
        {segments.data?.segments.edges.map(({ node }) => (
          <option key={node.id} value={node.id}>
            {node.name}
          </option>
        ))}
      </select>
      {target === 'new' && (
        <input name="segment-name" placeholder="Segment name" value={name} onChange={(e) => setName(e.target.value)} />
      )}
      <button type="submit" disabled={loading || selected.size === 0 || (target === 'new' && !name.trim())}>
        Assign
      </button>
      {problem && <span className="error">{problem}</span>}
    </form>
  );
}

export function App() {
  const [folder, setFolder] = useState({ kind: 'all' });
  const [search, setSearch] = useState('');
  const [selected, setSelected] = useState(new Set());
  const [result, connection] = useFolder(folder, search);

  // Live updates: every change arrives with the segment's count and the influencer's segments,
  // which the cache merges by id, so counts and rows change wherever they show. Two lists the
  // cache cannot derive are edited here: the Unassigned folder (an influencer whose first segment
  // this is leaves it, one that lost its last joins it) and the segment's member list.
  useSubscription(CHANGES, {
    onData({ client, data }) {
      const event = data.data?.segmentMembershipChanged;
      if (!event?.influencer) return;
      const { influencer, segment, change } = event;
      const added = change === 'ADDED';
      const ref = client.cache.identify(influencer);
      // Whether the influencer is in (true) or out of (false) a list after this event.
      const edit = (existing, inList, { readField, toReference }) => {
        if (!existing?.edges) return existing;
        const listed = existing.edges.some((edge) => readField('id', edge.node) === influencer.id);
        if (listed === inList) return existing;
        if (!inList) return { ...existing, edges: existing.edges.filter((edge) => readField('id', edge.node) !== influencer.id) };
        // Lists are oldest first: a newcomer shows only once the list's last page is loaded.
        if (existing.pageInfo?.hasNextPage) return existing;
        return { ...existing, edges: [...existing.edges, { __typename: 'InfluencerEdge', cursor: '', node: toReference(ref) }] };
      };
      const left = added && influencer.segments.length === 1;
      const joined = !added && influencer.segments.length === 0;
      client.cache.modify({
        fields: {
          unassigned(existing, helpers) {
            const edited = edit(existing, influencer.segments.length === 0, helpers);
            if (!edited || (!left && !joined) || edited.totalCount === undefined) return edited;
            return { ...edited, totalCount: edited.totalCount + (joined ? 1 : -1) };
          },
        },
      });
      if (segment) {
        client.cache.modify({
          id: client.cache.identify(segment),
          fields: { influencers: (existing, helpers) => edit(existing, added, helpers) },
        });
      }
    },
  });

  const toggle = (id) => {
    const next = new Set(selected);
    if (!next.delete(id)) next.add(id);
    setSelected(next);
  };
  const choose = (next) => {
    setFolder(next);
    setSelected(new Set());
  };
  return (
    <>
      <header>
        <strong>Segments</strong>
        <input
          name="search"
          placeholder="Search handle or name"
          value={search}
          onChange={(e) => {
            setSearch(e.target.value);
            choose({ kind: 'all' });
          }}
        />
      </header>
      <main>
        <Folders folder={folder} setFolder={choose} />
        <section>
          {selected.size > 0 && <AssignBar selected={selected} done={() => setSelected(new Set())} />}
          {result.error && <p className="error">{result.error.message}</p>}
          {connection && (
            <>
              <table>
                <tbody>
                  {connection.edges.map(({ node }) => (
                    <tr key={node.id} data-handle={node.handle}>
                      <td>
                        <input type="checkbox" aria-label={`select ${node.handle}`} checked={selected.has(node.id)} onChange={() => toggle(node.id)} />
                      </td>
                      <td>
                        @{node.handle} {node.displayName && <span>({node.displayName})</span>}
                      </td>
                      <td className="chips">
                        {node.segments.map((segment) => (
                          <span key={segment.id}>{segment.name}</span>
                        ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {connection.pageInfo.hasNextPage && (
                <button onClick={() => result.fetchMore({ variables: { after: connection.pageInfo.endCursor } })}>Load more</button>
              )}
            </>
          )}
        </section>
      </main>
    </>
  );
}
