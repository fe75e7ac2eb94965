#!/usr/bin/env python3
"""The benchmark itself, run by bench/run.sh (which installs and builds what it needs first).

For each database size: seed a fresh PostgreSQL database with `segments-api seed`, start
segments-api, PostGraphile and the hand-written baseline on it, check that every server returns the
same data for every workload, count the SQL statements each request runs, then drive every server
with wrk at the same concurrency, alternating servers, and write a Markdown report.

Standard library only.
"""

import argparse
import base64
import datetime
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_LOG = os.environ.get("BENCH_PG_LOG", "/var/log/postgresql/postgresql-15-main.log")
PORTS = {"segments-api": 5200, "postgraphile": 5300, "baseline": 5100}
CONCURRENCY = int(os.environ.get("BENCH_CONNECTIONS", "8"))
PAGE = 50
WORKLOADS = ["dashboard", "unassigned-first", "unassigned-deep", "members-deep",
             "recipients-deep", "profile", "filter", "history-first", "history-deep",
             "assign-1000", "churn-1000", "engagement", "rules", "fair-use"]
# The rules phase: RULE segments made through the API (the first matches about a tenth of the
# roster), `updateInfluencer` with none and with this many, and an assignment by filter.
RULES = 50
# Requests a second of the fair-use phase's measured key: the profile query costs 59 points, so
# this spends 5,900 of the default restore rate (10,000 a second) and is never throttled.
FAIR_USE_RATE = 100
# What the flooding key sends: a cheap query (its budget pays for about 170 a second) and the
# dashboard (about 24,000 points: one every 2.4 s, each a count-heavy read of the database).
FAIR_USE_FLOODS = ("profile", "dashboard")
# Lines of `updateInfluencer` bodies per run: every run starts at its own block, so every
# request changes a value (a body sent again would set what its first send set).
UPDATE_BLOCK = 8000


class BenchFailure(Exception):
    pass


def log(*args):
    print("[bench]", *args, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def psql(db, sql):
    return sh(["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-qAtc", sql]).strip()


# ---------------------------------------------------------------------------------------------
# Ids: segments-api ids are base64url("Type:pk"); PostGraphile's `id` fields are the raw bigint
# (as a string); the baseline returns integers. Results are compared in this common form.


def gid(kind, pk):
    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


def decoded(value):
    """The text of a global id or cursor (the inverse of `gid`)."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()


def pk(value):
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return int(decoded(value).split(":", 1)[1])


def ts(value):
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


# ---------------------------------------------------------------------------------------------
# Workloads: the same question asked of each server in its own idiom, and a function that
# reduces each server's answer to a common form for comparison.

OURS_DASHBOARD = (
    "query Dashboard($n: Int!, $m: Int!) { segments(first: $n) { nodes { id name memberCount "
    "influencers(first: $m) { nodes { id handle segments { id name } } } } } }"
)
PG_DASHBOARD = (
    "query Dashboard($ws: BigInt!, $n: Int!, $m: Int!) { allSegments(first: $n, "
    "orderBy: PRIMARY_KEY_ASC, condition: {workspaceId: $ws}) { nodes { id name "
    "members: segmentMembershipsByWorkspaceIdAndSegmentId { totalCount } "
    "page: segmentMembershipsByWorkspaceIdAndSegmentId(first: $m, orderBy: PRIMARY_KEY_ASC) { nodes { "
    "influencerByWorkspaceIdAndInfluencerId { id handle "
    "segmentMembershipsByWorkspaceIdAndInfluencerId(orderBy: PRIMARY_KEY_ASC) { nodes { "
    "segmentByWorkspaceIdAndSegmentId { id name } } } } } } } } }"
)
# A page of the workspace's membership history (segments-api alone: PostGraphile has none).
OURS_HISTORY = (
    "query History($after: String) { membershipChanges(first: %d, after: $after) { "
    "pageInfo { hasNextPage endCursor } nodes { id change influencerId segmentName source at "
    "actor { kind } } } }" % PAGE
)
OURS_UNASSIGNED = (
    "query Unassigned($after: String) { unassigned(first: %d, after: $after) { totalCount "
    "pageInfo { hasNextPage } nodes { id handle displayName followerCount } } }" % PAGE
)
PG_UNASSIGNED = (
    "query Unassigned($ws: BigInt!, $after: Cursor) { unassignedInfluencers(ws: $ws, "
    "first: %d, after: $after) { totalCount pageInfo { hasNextPage } "
    "nodes { id handle displayName followerCount } } }" % PAGE
)
# A page at 90% of the biggest segment's members, and of the campaign with the most recipients.
# PostGraphile pages both through functions in bench/postgraphile/setup.sql (its cursors on a
# function connection are offsets).
OURS_MEMBERS_DEEP = (
    "query Members($id: ID!, $after: String) { segment(id: $id) { influencers(first: %d, "
    "after: $after) { totalCount pageInfo { hasNextPage } "
    "nodes { id handle displayName followerCount } } } }" % PAGE
)
PG_MEMBERS_DEEP = (
    "query Members($ws: BigInt!, $seg: BigInt!, $after: Cursor) { segmentMembers(ws: $ws, "
    "seg: $seg, first: %d, after: $after) { totalCount pageInfo { hasNextPage } "
    "nodes { id handle displayName followerCount } } }" % PAGE
)
OURS_RECIPIENTS = (
    "query Recipients($id: ID!, $after: String) { campaign(id: $id) { recipients(first: %d, "
    "after: $after) { totalCount pageInfo { hasNextPage } "
    "nodes { id handle displayName followerCount } } } }" % PAGE
)
PG_RECIPIENTS = (
    "query Recipients($ws: BigInt!, $campaign: BigInt!, $after: Cursor) { campaignRecipients("
    "ws: $ws, campaign: $campaign, first: %d, after: $after) { totalCount pageInfo { hasNextPage } "
    "nodes { id handle displayName followerCount } } }" % PAGE
)
OURS_PROFILE = (
    "query Profile($id: ID!) { influencer(id: $id) { id handle displayName email platform niche "
    "followerCount memberships { assignedAt source segment { id name } } } }"
)
PG_PROFILE = (
    "query Profile($ws: BigInt!, $id: BigInt!) { influencerByWorkspaceIdAndId(workspaceId: $ws, "
    "id: $id) { id handle displayName email platform "
    "niche followerCount segmentMembershipsByWorkspaceIdAndInfluencerId(orderBy: PRIMARY_KEY_ASC) { nodes { "
    "assignedAt source segmentByWorkspaceIdAndSegmentId { id name } } } } }"
)
# A realistic four-condition roster filter: platform, niche, a follower range, and a search on
# handle or display name. PostGraphile answers it with postgraphile-plugin-connection-filter
# over the same key columns (`niche_key`, `handle_key`, `display_name_key`).
OURS_FILTER = (
    "query Filter($f: InfluencerFilter) { influencers(first: %d, filter: $f) { totalCount "
    "nodes { id handle followerCount } } }" % PAGE
)
OURS_FILTER_VALUE = {"platformIn": ["TIKTOK", "INSTAGRAM"], "nicheIn": ["fitness", "beauty"],
                     "followerCount": {"min": 50000, "max": 500000}, "search": "a"}
PG_FILTER = (
    "query Filter($ws: BigInt!, $f: InfluencerFilter) { allInfluencers(first: %d, "
    "orderBy: PRIMARY_KEY_ASC, condition: {workspaceId: $ws}, filter: $f) { totalCount "
    "nodes { id handle followerCount } } }" % PAGE
)
PG_FILTER_VALUE = {"platform": {"in": ["TIKTOK", "INSTAGRAM"]},
                   "nicheKey": {"in": ["fitness", "beauty"]},
                   "followerCount": {"greaterThanOrEqualTo": 50000, "lessThanOrEqualTo": 500000},
                   "or": [{"handleKey": {"includes": "a"}}, {"displayNameKey": {"includes": "a"}}]}
OURS_UPDATE = (
    "mutation Update($id: ID!, $followers: Int!) { updateInfluencer(input: {id: $id, "
    "followerCount: $followers}) { influencer { id followerCount } userErrors { code } } }"
)
OURS_CREATE_RULE = (
    "mutation Rule($name: String!, $rule: InfluencerFilter!) { createSegment(input: {name: $name, "
    "rule: $rule}) { segment { id memberCount } userErrors { code message field } } }"
)
OURS_COUNT = "query Count($f: InfluencerFilter) { influencers(first: 1, filter: $f) { totalCount } }"
OURS_MEMBERS = "query Members($id: ID!) { node(id: $id) { ... on Segment { memberCount } } }"
OURS_ASSIGN = (
    "mutation Assign($ids: [ID!]!, $segment: ID!) { assignToSegment(input: "
    "{influencerIds: $ids, segment: {id: $segment}}) { segment { id } userErrors { code } } }"
)
PG_ASSIGN = (
    "mutation Assign($ws: BigInt!, $ids: [BigInt]!, $segment: BigInt!) { assignToSegment("
    "input: {workspace: $ws, targetSegment: $segment, influencerIds: $ids}) { segment { id } } }"
)
OURS_ENGAGE = (
    "mutation Engage($campaign: ID!, $influencer: ID!) { recordEngagement(input: "
    "{campaignId: $campaign, influencerId: $influencer, kind: EMAIL_REPLIED}) { event { id } "
    "duplicate userErrors { code } } }"
)
OURS_REMOVE = (
    "mutation Remove($ids: [ID!]!, $segment: ID!) { removeFromSegment(input: "
    "{influencerIds: $ids, segmentId: $segment}) { segment { id } userErrors { code } } }"
)
PG_REMOVE = (
    "mutation Remove($ws: BigInt!, $ids: [BigInt]!, $segment: BigInt!) { removeFromSegment("
    "input: {workspace: $ws, targetSegment: $segment, influencerIds: $ids}) { segment { id } } }"
)
PG_ENGAGE = (
    "mutation Engage($ws: BigInt!, $campaign: BigInt!, $influencer: BigInt!) { "
    "recordEngagement(input: {workspace: $ws, targetCampaign: $campaign, "
    "targetInfluencer: $influencer, engagement: \"EMAIL_REPLIED\"}) { engagementEvent { id } } }"
)


def norm_dashboard(server, data):
    if server == "segments-api":
        return [
            (pk(s["id"]), s["name"], s["memberCount"],
             [(pk(i["id"]), i["handle"], [(pk(o["id"]), o["name"]) for o in i["segments"]])
              for i in s["influencers"]["nodes"]])
            for s in data["data"]["segments"]["nodes"]
        ]
    if server == "postgraphile":
        return [
            (pk(s["id"]), s["name"], s["members"]["totalCount"],
             [(pk(m["influencerByWorkspaceIdAndInfluencerId"]["id"]), m["influencerByWorkspaceIdAndInfluencerId"]["handle"],
               [(pk(o["segmentByWorkspaceIdAndSegmentId"]["id"]), o["segmentByWorkspaceIdAndSegmentId"]["name"])
                for o in m["influencerByWorkspaceIdAndInfluencerId"]["segmentMembershipsByWorkspaceIdAndInfluencerId"]["nodes"]])
              for m in s["page"]["nodes"]])
            for s in data["data"]["allSegments"]["nodes"]
        ]
    return [
        (s["id"], s["name"], s["member_count"],
         [(i["id"], i["handle"], [(o["id"], o["name"]) for o in i["segments"]])
          for i in s["influencers"]])
        for s in data
    ]


def norm_unassigned(server, data):
    if server == "baseline":
        page = data
        return (page["total_count"], page["has_next_page"],
                [(n["id"], n["handle"], n["display_name"], n["follower_count"])
                 for n in page["nodes"]])
    key = "unassigned" if server == "segments-api" else "unassignedInfluencers"
    page = data["data"][key]
    return (page["totalCount"], page["pageInfo"]["hasNextPage"],
            [(pk(n["id"]), n["handle"], n["displayName"], n["followerCount"])
             for n in page["nodes"]])


def norm_deep_page(ours, theirs):
    """Normalises a page of influencers at `data.<ours...>` (segments-api) or `data.<theirs>`."""
    def norm(server, data):
        page = data["data"]
        for key in (ours if server == "segments-api" else [theirs]):
            if key not in page:
                raise BenchFailure(f"{server}: no {key} in {json.dumps(data)[:400]}")
            page = page[key]
        return (page["totalCount"], page["pageInfo"]["hasNextPage"],
                [(pk(n["id"]), n["handle"], n["displayName"], n["followerCount"])
                 for n in page["nodes"]])
    return norm


def norm_filter(server, data):
    key = "influencers" if server == "segments-api" else "allInfluencers"
    conn = data["data"][key]
    return [conn["totalCount"], [(pk(n["id"]), n["handle"], n["followerCount"])
                                 for n in conn["nodes"]]]


def norm_profile(server, data):
    if server == "baseline":
        p = data
        return (p["id"], p["handle"], p["display_name"], p["email"], p["platform"], p["niche"],
                p["follower_count"],
                [(ts(m["assigned_at"]), m["source"], m["segment"]["id"], m["segment"]["name"])
                 for m in p["memberships"]])
    p = data["data"]["influencer" if server == "segments-api" else "influencerByWorkspaceIdAndId"]
    if server == "segments-api":
        ms = [(ts(m["assignedAt"]), m["source"], pk(m["segment"]["id"]), m["segment"]["name"])
              for m in p["memberships"]]
    else:
        ms = [(ts(m["assignedAt"]), m["source"], pk(m["segmentByWorkspaceIdAndSegmentId"]["id"]),
               m["segmentByWorkspaceIdAndSegmentId"]["name"])
              for m in p["segmentMembershipsByWorkspaceIdAndInfluencerId"]["nodes"]]
    return (pk(p["id"]), p["handle"], p["displayName"], p["email"], p["platform"], p["niche"],
            p["followerCount"], ms)


# ---------------------------------------------------------------------------------------------
# Servers


class Server:
    def __init__(self, name, cmd, env, logdir, port=None, log_name=None):
        self.name = name
        self.port = port or PORTS[name]
        self.log = open(os.path.join(logdir, f"{log_name or name}.log"), "a")
        full_env = dict(os.environ)
        full_env.update(env)
        self.proc = subprocess.Popen(cmd, env=full_env, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=ROOT, start_new_session=True)
        self.wait_ready()

    def wait_ready(self):
        url = f"http://127.0.0.1:{self.port}/"
        for _ in range(600):
            if self.proc.poll() is not None:
                raise BenchFailure(f"{self.name} exited with {self.proc.returncode}; see {self.log.name}")
            try:
                urllib.request.urlopen(url, timeout=1)
                return
            except urllib.error.HTTPError:
                return  # Any HTTP answer means it listens.
            except OSError:
                time.sleep(0.1)
        raise BenchFailure(f"{self.name} did not start; see {self.log.name}")

    def peak_rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return None

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def post(port, body, key=None):
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body.encode(),
                                 headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise BenchFailure(f"port {port}: HTTP {e.code}: {e.read()[:600]!r}") from None


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise BenchFailure(f"port {port}: HTTP {e.code}: {e.read()[:600]!r}") from None


# ---------------------------------------------------------------------------------------------
# Statement counting: log_statement = 'all' on the benchmark database only, then count the log
# lines of that database that are statements ("statement:" for the simple protocol, "execute"
# for prepared/extended ones), between two offsets of the server log.


def log_size():
    return os.path.getsize(PG_LOG)


def count_statements(db, start):
    with open(PG_LOG, "rb") as f:
        f.seek(start)
        text = f.read().decode("utf-8", "replace")
    pattern = re.compile(r"@%s (?:LOG|LOG:)?\s*(?:LOG:\s+)?(statement|execute [^:]*):" % re.escape(db))
    return sum(1 for line in text.splitlines() if pattern.search(line))


# ---------------------------------------------------------------------------------------------


def parse_wrk(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % label, out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    failed = int(re.search(r"bench-failed (\d+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed += int(non2xx.group(1)) if non2xx else 0
    failed += sum(int(g) for g in errors.groups()) if errors else 0
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "failed": failed, "requests": total}


def paced_latencies(port, bodies, key, rate, duration):
    """Sends `bodies` in turn at `rate` a second for `duration` seconds on one keep-alive
    connection, each when its turn comes (or at once when the previous answer came late);
    returns each request's latency in ms. Any refused or failed request stops the benchmark."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    latencies, due = [], time.perf_counter()
    end = due + duration
    try:
        while due < end:
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            started = time.perf_counter()
            conn.request("POST", "/graphql", body=bodies[len(latencies) % len(bodies)],
                         headers=headers)
            response = conn.getresponse()
            data = response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status != 200 or b'"errors"' in data:
                raise BenchFailure(f"fair-use: HTTP {response.status}: {data[:300]!r}")
            due += 1 / rate
    finally:
        conn.close()
    return latencies


def latency_stats(latencies):
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50": cuts[49], "p99": cuts[98], "requests": len(latencies)}


def run_wrk(port, requests_file, duration, method="POST", path="/graphql", key="", start=0):
    env = dict(os.environ, BENCH_REQUESTS=requests_file, BENCH_METHOD=method, BENCH_PATH=path,
               BENCH_AUTH=key, BENCH_START=str(start))
    cmd = ["wrk", "-t1", f"-c{CONCURRENCY}", f"-d{duration}s", "--timeout", "30s", "--latency",
           "-s", os.path.join(HERE, "wrk.lua"), f"http://127.0.0.1:{port}"]
    out = subprocess.run(cmd, env=env, check=True, text=True, capture_output=True).stdout
    return parse_wrk(out)


class SizeRun:
    """Everything measured on one database size."""

    def __init__(self, args, size, tmp, bin=None, db_suffix="", port=None):
        self.args = args
        self.size = size
        self.tmp = tmp
        self.db = ("bench_smoke" if args.smoke else (
            "bench_1m" if size >= 1_000_000 else f"bench_{size // 1000}k")) + db_suffix
        # The segments-api binary and port this run uses (another build's, in a comparison).
        self.bin = bin or args.bin
        self.db_suffix = db_suffix
        self.ports = dict(PORTS, **({"segments-api": port} if port else {}))
        self.results = {}  # (workload, server) -> list of wrk results
        self.statements = {}  # (workload, server) -> statements per request
        self.scaling = {}  # (server, segments) -> statements per request
        self.rss = {}
        self.notes = []

    # -- data --------------------------------------------------------------------------------

    def seed(self):
        url = f"{PG}/{self.db}"
        if self.args.reuse and self.seeded_before():
            self.seed_seconds = 0.0
            self.seed_summary = f"reused {self.db} as the last run left it"
            log(self.seed_summary)
            return
        sh(["dropdb", "--if-exists", "--force", "-h", "127.0.0.1", "-U", "postgres", self.db])
        sh(["createdb", "-h", "127.0.0.1", "-U", "postgres", self.db])
        log(f"seeding {self.db} with {self.size} influencers")
        start = time.monotonic()
        proc = subprocess.run([self.bin, "seed", "--influencers", str(self.size)],
                              env=dict(os.environ, DATABASE_URL=url, RUST_LOG="info"),
                              text=True, capture_output=True)
        self.seed_seconds = time.monotonic() - start
        if proc.returncode != 0:
            raise BenchFailure(f"seed failed: {proc.stderr[-2000:]}")
        self.seed_summary = proc.stdout.strip().splitlines()[-1]
        log(f"seeded in {self.seed_seconds:.1f} s: {self.seed_summary}")
        # Fresh statistics and visibility map for every server alike.
        psql(self.db, "VACUUM ANALYZE")

    def seeded_before(self):
        exists = psql("postgres", f"SELECT count(*) FROM pg_database WHERE datname = '{self.db}'")
        if exists != "1":
            return False
        try:
            # The rules phase converts the seed's RULE segments to MANUAL: a database it ran on
            # is seeded again.
            return (int(psql(self.db, "SELECT count(*) FROM influencer")) == self.size
                    and int(psql(self.db, "SELECT count(*) FROM segment WHERE kind = 'RULE'")) > 0)
        except Exception:
            return False

    def prepare(self):
        self.ws = int(psql(self.db, "SELECT id FROM workspace ORDER BY id LIMIT 1"))
        # Every segment is MANUAL in a build from before RULE segments (no `kind` column).
        has_kind = psql(self.db, "SELECT count(*) FROM information_schema.columns WHERE "
                                 "table_name = 'segment' AND column_name = 'kind'") == "1"
        manual = "kind = 'MANUAL'" if has_kind else "TRUE"
        out = sh([self.bin, "api-key", "create", "--workspace", "Default", "--label",
                  f"bench {int(time.time())}"], env=dict(os.environ, DATABASE_URL=f"{PG}/{self.db}"))
        self.key = re.search(r"sk_[A-Za-z0-9_-]+", out).group(0)
        sh(["psql", f"{PG}/{self.db}", "-v", "ON_ERROR_STOP=1", "-qf",
            os.path.join(HERE, "postgraphile", "setup.sql")])
        # A campaign whose two automations both fire on EMAIL_REPLIED, into two segments. Only
        # MANUAL segments take automations and assignments (the seed's RULE segments are filled
        # by their rules).
        # Not the stages of the seed's pipeline (a build that has them): entering a stage leaves
        # the others, which PostGraphile's functions would not do.
        grouped = psql(self.db, "SELECT to_regclass('segment_group_member') IS NOT NULL") == "t"
        ungrouped = " AND id NOT IN (SELECT segment_id FROM segment_group_member)" if grouped else ""
        manual = f"{manual}{ungrouped}"
        segs = psql(self.db, f"SELECT id FROM segment WHERE workspace_id = {self.ws} "
                             f"AND {manual} ORDER BY id DESC LIMIT 2").split()
        self.campaign = int(psql(self.db, (
            "INSERT INTO campaign (workspace_id, name, status, created_at) VALUES "
            f"({self.ws}, 'Benchmark outreach', 'ACTIVE', now()) RETURNING id")).split()[0])
        for s in segs:
            psql(self.db, (
                "INSERT INTO automation (workspace_id, campaign_id, trigger, action, segment_id, "
                f"enabled, created_at) VALUES ({self.ws}, {self.campaign}, 'EMAIL_REPLIED', "
                f"'ASSIGN_TO_SEGMENT', {s}, true, now())"))
        self.automation_segments = [int(s) for s in segs]
        # The profile: an influencer in four segments.
        self.profile_id = int(psql(self.db, (
            "SELECT influencer_id FROM segment_membership WHERE influencer_id IN (SELECT id FROM "
            f"influencer WHERE workspace_id = {self.ws} ORDER BY id LIMIT 5000) GROUP BY "
            "influencer_id ORDER BY count(*) DESC, influencer_id LIMIT 1")))
        # The deep Unassigned page starts after 90% of the folder (the folder is a fifth of the
        # roster, so the deepest possible page is after about 0.2 N rows).
        self.unassigned_total = int(psql(self.db, (
            f"SELECT count(*) FROM influencer i WHERE i.workspace_id = {self.ws} AND NOT EXISTS "
            "(SELECT 1 FROM segment_membership m WHERE m.influencer_id = i.id)")))
        self.deep_offset = max(1, min(int(self.unassigned_total * 0.9),
                                      self.unassigned_total - PAGE - 1))
        self.deep_after = int(psql(self.db, (
            f"SELECT id FROM influencer i WHERE i.workspace_id = {self.ws} AND NOT EXISTS "
            "(SELECT 1 FROM segment_membership m WHERE m.influencer_id = i.id) ORDER BY id "
            f"OFFSET {self.deep_offset - 1} LIMIT 1")))
        # The deep history page starts after 90% of the workspace's history (positions run from
        # 1 with no gap: nothing is pruned). A build from before the history has none.
        history = psql(self.db, "SELECT to_regclass('membership_history_head') IS NOT NULL") == "t"
        self.history_total = int(psql(self.db, (
            "SELECT coalesce(max(last_id), 0) FROM membership_history_head "
            f"WHERE workspace_id = {self.ws}"))) if history else 0
        self.history_after = max(1, self.history_total * 9 // 10)
        # The deep pages of a segment's members and a campaign's recipients start after 90% of
        # the biggest of each.
        self.members_segment, self.members_total = [int(x) for x in psql(self.db, (
            f"SELECT segment_id, count(*) FROM segment_membership WHERE workspace_id = {self.ws} "
            "GROUP BY segment_id ORDER BY count(*) DESC, segment_id LIMIT 1")).split("|")]
        self.members_offset = max(1, min(int(self.members_total * 0.9),
                                         self.members_total - PAGE - 1))
        self.members_after = int(psql(self.db, (
            f"SELECT influencer_id FROM segment_membership WHERE workspace_id = {self.ws} AND "
            f"segment_id = {self.members_segment} ORDER BY influencer_id "
            f"OFFSET {self.members_offset - 1} LIMIT 1")))
        recipients = (
            f"SELECT DISTINCT m.influencer_id AS id FROM segment_membership m JOIN "
            f"campaign_audience a ON a.segment_id = m.segment_id AND a.workspace_id = m.workspace_id "
            f"WHERE m.workspace_id = {self.ws} AND a.campaign_id = %s")
        self.recipients_campaign, self.recipients_total = [int(x) for x in psql(self.db, (
            f"SELECT c.id, (SELECT count(*) FROM ({recipients % 'c.id'}) r) AS n FROM campaign c "
            f"WHERE c.workspace_id = {self.ws} ORDER BY n DESC, c.id LIMIT 1")).split("|")]
        self.recipients_offset = max(1, min(int(self.recipients_total * 0.9),
                                            self.recipients_total - PAGE - 1))
        self.recipients_after = int(psql(self.db, (
            f"SELECT id FROM ({recipients % self.recipients_campaign}) r ORDER BY id "
            f"OFFSET {self.recipients_offset - 1} LIMIT 1")))
        ids = [int(x) for x in psql(self.db, f"SELECT id FROM influencer WHERE workspace_id = "
                                             f"{self.ws} ORDER BY id").split()]
        seg_ids = [int(x) for x in psql(self.db, f"SELECT id FROM segment WHERE workspace_id = "
                                                 f"{self.ws} AND {manual} ORDER BY id").split()]
        rng = random.Random(4)
        self.assign_sets = [(rng.choice(seg_ids[len(seg_ids) // 2:]), rng.sample(ids, 1000))
                            for _ in range(30)]
        self.assign_big = (seg_ids[-3], rng.sample(ids, min(10_000, len(ids))))
        # Churn: 30 sets of 1,000 assigned, then removed, each set in a segment of its own (none
        # of them members there at the start), so that every request makes or ends 1,000
        # memberships and writes their history.
        # (A small roster has fewer segments: then sets share one, with influencers apart.)
        candidates = seg_ids[len(seg_ids) // 2:]
        per_segment = -(-30 // len(candidates))
        self.churn_sets = []
        for segment in rng.sample(candidates, min(30, len(candidates))):
            members = {int(x) for x in psql(self.db, (
                f"SELECT influencer_id FROM segment_membership WHERE segment_id = {segment}")).split()}
            free = [i for i in ids if i not in members]
            rng.shuffle(free)
            size = min(1000, len(free) // per_segment)
            for j in range(per_segment):
                if len(self.churn_sets) < 30:
                    self.churn_sets.append((segment, free[j * size:(j + 1) * size]))
        # A segment whose description the statement counts rewrite (see `forget_counts`).
        self.scratch_segment = seg_ids[-2]
        self.engage_ids = rng.sample(ids, 200)
        # Rules phase: distinct influencers, each set to a follower count drawn log-uniformly
        # from 1,000 to 5,000,000, so that updates cross the rules' thresholds as real ones do.
        blocks = 2 * (1 + self.args.rounds)
        self.update_pairs = [(i, int(10 ** rng.uniform(3, 6.7)))
                             for i in rng.sample(ids, min(len(ids), blocks * UPDATE_BLOCK))]
        self.manual_segments = seg_ids
        self.rules = self.bench_rules(rng)
        self.build_requests()

    def follower_quantile(self, rank):
        """The follower count of the influencer at `rank` (0-based) in follower order: a filter
        `followerCount: {max: q}` matches about `rank` influencers (more on ties)."""
        return int(psql(self.db, (
            f"SELECT follower_count FROM influencer WHERE workspace_id = {self.ws} AND "
            f"follower_count IS NOT NULL ORDER BY follower_count OFFSET {max(0, rank - 1)} "
            "LIMIT 1")))

    def bench_rules(self, rng):
        """The rules phase's RULE segments: the first matches about a tenth of the roster (the
        issue's "rule over 10% of 1M"); the others are the mix a team keeps, over fields,
        memberships of MANUAL segments, engagement, and their compositions."""
        platforms = ["INSTAGRAM", "TIKTOK", "YOUTUBE", "TWITCH", "X"]
        niches = ["fitness", "beauty", "gaming", "travel", "food", "tech", "fashion", "parenting",
                  "finance", "music", "outdoors", "pets"]
        segments = self.manual_segments
        segment = lambda: gid("Segment", rng.choice(segments))
        tenth = {"followerCount": {"max": self.follower_quantile(self.size // 10)}}
        rules = [tenth]
        shapes = [
            lambda: {"platformIn": rng.sample(platforms, 2),
                     "followerCount": {"min": rng.choice([10_000, 50_000, 100_000])}},
            lambda: {"nicheIn": rng.sample(niches, 2),
                     "followerCount": {"min": 5_000, "max": rng.choice([250_000, 1_000_000])}},
            lambda: {"inAnySegment": [segment(), segment()],
                     "followerCount": {"min": rng.choice([20_000, 200_000])}},
            lambda: {"engaged": {"kinds": ["EMAIL_REPLIED"], "withinDays": rng.choice([7, 30, 90])},
                     "platformIn": rng.sample(platforms, 3)},
            lambda: {"anyOf": [{"nicheIn": [rng.choice(niches)]},
                               {"platformIn": [rng.choice(platforms)],
                                "followerCount": {"min": 500_000}}]},
            lambda: {"nicheIn": [rng.choice(niches)], "not": {"inAnySegment": [segment()]}},
            # The seed's handles are "creator<n>": digits pick out a slice of the roster.
            lambda: {"search": rng.choice(["12", "77", "345", "909"]),
                     "followerCount": {"min": 1_000}},
        ]
        while len(rules) < RULES:
            rules.append(shapes[len(rules) % len(shapes)]())
        return rules

    def build_requests(self):
        ws = str(self.ws)
        q = lambda query, variables: json.dumps({"query": query, "variables": variables})
        pg_cursor = lambda offset: base64.b64encode(
            json.dumps(["natural", offset]).encode()).decode()
        ours_cursor = lambda after: gid("cursor", after)
        deep_pg_cursor = pg_cursor(self.deep_offset)
        self.workloads = {
            "dashboard": {
                "segments-api": [q(OURS_DASHBOARD, {"n": 50, "m": 20})],
                "postgraphile": [q(PG_DASHBOARD, {"ws": ws, "n": 50, "m": 20})],
                "baseline": ["/dashboard?segments=50&influencers=20"],
            },
            "unassigned-first": {
                "segments-api": [q(OURS_UNASSIGNED, {"after": None})],
                "postgraphile": [q(PG_UNASSIGNED, {"ws": ws, "after": None})],
                "baseline": ["/unassigned?first=%d" % PAGE],
            },
            "unassigned-deep": {
                "segments-api": [q(OURS_UNASSIGNED, {"after": ours_cursor(self.deep_after)})],
                "postgraphile": [q(PG_UNASSIGNED, {"ws": ws, "after": deep_pg_cursor})],
                "baseline": [f"/unassigned?first={PAGE}&after={self.deep_after}"],
            },
            "members-deep": {
                "segments-api": [q(OURS_MEMBERS_DEEP, {
                    "id": gid("Segment", self.members_segment),
                    "after": ours_cursor(self.members_after)})],
                "postgraphile": [q(PG_MEMBERS_DEEP, {
                    "ws": ws, "seg": str(self.members_segment),
                    "after": pg_cursor(self.members_offset)})],
            },
            "recipients-deep": {
                "segments-api": [q(OURS_RECIPIENTS, {
                    "id": gid("Campaign", self.recipients_campaign),
                    "after": ours_cursor(self.recipients_after)})],
                "postgraphile": [q(PG_RECIPIENTS, {
                    "ws": ws, "campaign": str(self.recipients_campaign),
                    "after": pg_cursor(self.recipients_offset)})],
            },
            "history-first": {
                "segments-api": [q(OURS_HISTORY, {"after": None})],
            },
            "history-deep": {
                # A change's cursor is its id: `change:<workspace>:<position>`.
                "segments-api": [q(OURS_HISTORY, {
                    "after": gid("change", f"{ws}:{self.history_after}")})],
            },
            "profile": {
                "segments-api": [q(OURS_PROFILE, {"id": gid("Influencer", self.profile_id)})],
                "postgraphile": [q(PG_PROFILE, {"ws": ws, "id": str(self.profile_id)})],
                "baseline": [f"/influencer/{self.profile_id}"],
            },
            "filter": {
                "segments-api": [q(OURS_FILTER, {"f": OURS_FILTER_VALUE})],
                "postgraphile": [q(PG_FILTER, {"ws": ws, "f": PG_FILTER_VALUE})],
            },
            "assign-1000": {
                "segments-api": [q(OURS_ASSIGN, {"segment": gid("Segment", s),
                                                 "ids": [gid("Influencer", i) for i in ids]})
                                 for s, ids in self.assign_sets],
                "postgraphile": [q(PG_ASSIGN, {"ws": ws, "segment": str(s),
                                               "ids": [str(i) for i in ids]})
                                 for s, ids in self.assign_sets],
            },
            # Every set assigned, then every set removed: a set's two requests are 30 apart, so
            # they never run at the same time.
            "churn-1000": {
                "segments-api": [q(OURS_ASSIGN, {"segment": gid("Segment", s),
                                                 "ids": [gid("Influencer", i) for i in ids]})
                                 for s, ids in self.churn_sets]
                + [q(OURS_REMOVE, {"segment": gid("Segment", s),
                                   "ids": [gid("Influencer", i) for i in ids]})
                   for s, ids in self.churn_sets],
                "postgraphile": [q(PG_ASSIGN, {"ws": ws, "segment": str(s),
                                               "ids": [str(i) for i in ids]})
                                 for s, ids in self.churn_sets]
                + [q(PG_REMOVE, {"ws": ws, "segment": str(s), "ids": [str(i) for i in ids]})
                   for s, ids in self.churn_sets],
            },
            "update": {
                "segments-api": [q(OURS_UPDATE, {"id": gid("Influencer", i), "followers": f})
                                 for i, f in self.update_pairs],
            },
            "engagement": {
                "segments-api": [q(OURS_ENGAGE, {"campaign": gid("Campaign", self.campaign),
                                                 "influencer": gid("Influencer", i)})
                                 for i in self.engage_ids],
                "postgraphile": [q(PG_ENGAGE, {"ws": ws, "campaign": str(self.campaign),
                                               "influencer": str(i)})
                                 for i in self.engage_ids],
            },
        }
        self.files = {}
        for workload, per_server in self.workloads.items():
            for server, lines in per_server.items():
                path = os.path.join(self.tmp, f"{self.db}-{workload}-{server}.txt")
                with open(path, "w") as f:
                    f.write("\n".join(lines) + "\n")
                self.files[(workload, server)] = path

    # -- servers -----------------------------------------------------------------------------

    def start_servers(self, logdir, which=("segments-api", "postgraphile", "baseline"),
                      metered=False):
        # Plain TCP on the loopback for all three: node-postgres does not use TLS unless told
        # to, while sqlx's default (`sslmode=prefer`) would negotiate it with this server.
        url = f"{PG}/{self.db}?sslmode=disable"
        servers = {}
        try:
            if "segments-api" in which:
                servers["segments-api"] = Server("segments-api", [self.bin, "serve"], {
                    "DATABASE_URL": url, "BIND_ADDR": f"127.0.0.1:{self.ports['segments-api']}",
                    "NO_MIGRATE": "true", "RUST_LOG": "warn", "DB_MAX_CONNECTIONS": "10",
                    # The key is looked up once, not once per 5 s (the default): otherwise that
                    # lookup shows as a third of a statement in some counts, at random.
                    "API_KEY_CACHE_SECONDS": "3600",
                    # The rules phase times RULE segment creation over up to 1M influencers and
                    # reports it against the issue's 10 s: the server's own 10 s guard would turn
                    # one slow creation into a failed run instead of a figure.
                    "REQUEST_TIMEOUT_SECONDS": "120",
                    # The bench key would spend the default cost budget (100,000 points, 10,000
                    # a second) within a second of the load runs, and PostGraphile has none: the
                    # budget is made too large to run out. Every request is still priced, so its
                    # cost is in the figures. The fair-use phase (`metered`) runs the defaults.
                    **({} if metered else {"COST_MAXIMUM_AVAILABLE": "4000000000",
                                           "COST_RESTORE_RATE": "4000000000"})},
                    logdir, port=self.ports["segments-api"],
                    log_name=f"segments-api{self.db_suffix}")
            if "postgraphile" in which:
                servers["postgraphile"] = Server("postgraphile", [
                    "node", os.path.join(HERE, "postgraphile", "node_modules", ".bin", "postgraphile"),
                    "-c", url, "--schema", "public,postgraphile_bench", "--host", "127.0.0.1",
                    "--port", str(self.ports["postgraphile"]), "--disable-query-log", "--disable-graphiql",
                    "--dynamic-json", "--no-setof-functions-contain-nulls", "--max-pool-size", "10",
                    "--disable-default-mutations",
                    "--append-plugins", "postgraphile-plugin-connection-filter"],
                    {"NODE_ENV": "production"}, logdir)
            if "baseline" in which:
                servers["baseline"] = Server("baseline", [self.args.baseline_bin], {
                    "BASELINE_DATABASE_URL": url, "BASELINE_WORKSPACE": str(self.ws),
                    "BASELINE_BIND": f"127.0.0.1:{self.ports['baseline']}"}, logdir)
        except Exception:
            for s in servers.values():
                s.stop()
            raise
        return servers

    def ask(self, server, workload, index=0):
        body = self.workloads[workload][server][index]
        if server == "baseline":
            return get(self.ports[server], body)
        return post(self.ports[server], body, self.key if server == "segments-api" else None)

    # -- phase 1: same answers, statements per request ----------------------------------------

    def check_and_count(self, logdir):
        # Everything the checks write is newer than this, and is deleted again afterwards.
        since = psql(self.db, "SELECT now()")
        self.written_since = f"assigned_at >= '{since}'"
        psql("postgres", f"ALTER DATABASE {self.db} SET log_statement = 'all'")
        servers = self.start_servers(logdir)
        try:
            norms = {"dashboard": norm_dashboard, "unassigned-first": norm_unassigned,
                     "unassigned-deep": norm_unassigned, "profile": norm_profile,
                     "filter": norm_filter,
                     "members-deep": norm_deep_page(["segment", "influencers"], "segmentMembers"),
                     "recipients-deep": norm_deep_page(["campaign", "recipients"],
                                                       "campaignRecipients")}
            for workload, norm in norms.items():
                answers = {}
                for server in self.workloads[workload]:
                    data = self.ask(server, workload)
                    if isinstance(data, dict) and data.get("errors"):
                        raise BenchFailure(f"{server} {workload}: {data['errors']}")
                    answers[server] = norm(server, data)
                first = answers["segments-api"]
                for server, answer in answers.items():
                    if answer != first:
                        raise BenchFailure(
                            f"{workload}: {server} answers differently from segments-api:\n"
                            f"{json.dumps(answer)[:600]}\nvs\n{json.dumps(first)[:600]}")
                if workload == "dashboard" and (len(first) != min(50, len(first)) or not first):
                    raise BenchFailure("dashboard returned no segments")
                if ("unassigned" in workload or workload.endswith("-deep")) and len(first[2]) != PAGE:
                    raise BenchFailure(f"{workload} returned {len(first[2])} rows, not {PAGE}")
                if workload == "unassigned-first" and first[0] != self.unassigned_total:
                    raise BenchFailure(f"unassigned totalCount {first[0]} != {self.unassigned_total}")
                if workload == "profile" and not first[7]:
                    raise BenchFailure("profile has no memberships")
                if workload == "filter" and not first[1]:
                    raise BenchFailure("the filter matched nobody")
                log(f"{workload}: all servers agree")
                for server in self.workloads[workload]:
                    self.statements[(workload, server)] = self.measure_statements(
                        lambda: self.ask(server, workload))
            # The history pages: segments-api alone, checked against the positions they hold.
            for workload, after in (("history-first", 0), ("history-deep", self.history_after)):
                data = self.expect_ok("segments-api", self.ask("segments-api", workload))
                nodes = data["data"]["membershipChanges"]["nodes"]
                positions = [int(decoded(n["id"]).rsplit(":", 1)[1]) for n in nodes]
                if positions != list(range(after + 1, after + 1 + PAGE)):
                    raise BenchFailure(f"{workload}: positions {positions[:3]}..., not from "
                                       f"{after + 1}")
                log(f"{workload}: {PAGE} changes from position {after + 1}")
                self.statements[(workload, "segments-api")] = self.measure_statements(
                    lambda: self.ask("segments-api", workload))
            # Statements as the dashboard grows: 1, 10 and 100 segments.
            for n in (1, 10, 100):
                bodies = {
                    "segments-api": json.dumps({"query": OURS_DASHBOARD, "variables": {"n": n, "m": 20}}),
                    "postgraphile": json.dumps({"query": PG_DASHBOARD,
                                                "variables": {"ws": str(self.ws), "n": n, "m": 20}}),
                }
                for server, body in bodies.items():
                    key = self.key if server == "segments-api" else None
                    self.scaling[(server, n)] = self.measure_statements(
                        lambda: self.expect_ok(server, post(self.ports[server], body, key)),
                        before_each=self.forget_counts if server == "segments-api" else None)
                # segments-api also as it runs under load: member counts that were slow to
                # make are kept (10 s), and the count statement is skipped when all are kept.
                self.scaling[("segments-api kept", n)] = self.measure_statements(
                    lambda: self.expect_ok("segments-api", post(
                        self.ports["segments-api"], bodies["segments-api"], self.key)))
                self.scaling[("baseline", n)] = self.measure_statements(
                    lambda: get(self.ports["baseline"], f"/dashboard?segments={n}&influencers=20"))
            # Writes: check the effect in the database, then count statements.
            for server in ("segments-api", "postgraphile"):
                for index in range(2):
                    self.expect_ok(server, self.ask(server, "assign-1000", index))
                    segment, ids = self.assign_sets[index]
                    members = int(psql(self.db, (
                        f"SELECT count(*) FROM segment_membership WHERE segment_id = {segment} "
                        f"AND influencer_id IN ({','.join(map(str, ids))})")))
                    if members != len(set(ids)):
                        raise BenchFailure(f"{server} assign-1000: {members} members, not {len(ids)}")
                    psql(self.db, (f"DELETE FROM segment_membership WHERE segment_id = {segment} "
                                   f"AND {self.written_since}"))
                self.statements[("assign-1000", server)] = self.measure_statements(
                    lambda: self.expect_ok(server, self.ask(server, "assign-1000", 2)))
                segment, ids = self.assign_big
                big = {
                    "segments-api": json.dumps({"query": OURS_ASSIGN, "variables": {
                        "segment": gid("Segment", segment), "ids": [gid("Influencer", i) for i in ids]}}),
                    "postgraphile": json.dumps({"query": PG_ASSIGN, "variables": {
                        "ws": str(self.ws), "segment": str(segment), "ids": [str(i) for i in ids]}}),
                }[server]
                key = self.key if server == "segments-api" else None
                self.statements[("assign-10000", server)] = self.measure_statements(
                    lambda: self.expect_ok(server, post(self.ports[server], big, key)), times=1)
                psql(self.db, (f"DELETE FROM segment_membership WHERE segment_id = {segment} "
                               f"AND {self.written_since}"))
                # Churn: a set assigned, then removed.
                segment, ids = self.churn_sets[0]
                for index, expected in ((0, len(ids)), (len(self.churn_sets), 0)):
                    self.expect_ok(server, self.ask(server, "churn-1000", index))
                    members = int(psql(self.db, (
                        f"SELECT count(*) FROM segment_membership WHERE segment_id = {segment} "
                        f"AND influencer_id IN ({','.join(map(str, ids))})")))
                    if members != expected:
                        raise BenchFailure(f"{server} churn-1000: {members} members, not {expected}")
                # Engagement: the influencer ends up in both automation segments.
                for index in range(2):
                    self.expect_ok(server, self.ask(server, "engagement", index))
                    who = self.engage_ids[index]
                    found = int(psql(self.db, (
                        "SELECT count(*) FROM segment_membership WHERE influencer_id = "
                        f"{who} AND segment_id IN ({','.join(map(str, self.automation_segments))})")))
                    if found != 2:
                        raise BenchFailure(f"{server} engagement: in {found} automation segments, not 2")
                    psql(self.db, (f"DELETE FROM segment_membership WHERE influencer_id = {who} "
                                   f"AND {self.written_since}"))
                self.statements[("engagement", server)] = self.measure_statements(
                    lambda: self.expect_ok(server, self.ask(server, "engagement", 2)))
                log(f"{server}: writes checked")
        finally:
            for s in servers.values():
                s.stop()
            psql("postgres", f"ALTER DATABASE {self.db} RESET log_statement")
        # Undo the checks' writes, so the load runs start from the seeded state.
        psql(self.db, f"DELETE FROM segment_membership WHERE {self.written_since}")
        psql(self.db, f"DELETE FROM engagement_event WHERE campaign_id = {self.campaign}")

    def expect_ok(self, server, data):
        text = json.dumps(data)
        if data.get("errors") or '"userErrors": [{' in text:
            raise BenchFailure(f"{server}: {text[:600]}")
        return data

    def measure_statements(self, call, times=3, before_each=None):
        call()  # Warm: first-use work (prepares, introspection caches) is not counted.
        time.sleep(0.3)
        if before_each is None:
            start = log_size()
            for _ in range(times):
                call()
            time.sleep(0.5)  # Let the server log catch up.
            return count_statements(self.db, start) / times
        total = 0
        for _ in range(times):
            before_each()
            time.sleep(0.3)  # Its statements are logged before the count starts.
            start = log_size()
            call()
            time.sleep(0.5)
            total += count_statements(self.db, start)
        return total / times

    def forget_counts(self):
        """A write to the workspace, which makes segments-api forget its kept counts: the request
        after it makes every count it needs, whatever was kept before."""
        self.expect_ok("segments-api", post(self.ports["segments-api"], json.dumps({
            "query": "mutation($id: ID!) { updateSegment(input: {id: $id, description: "
                     "\"Statement counts\"}) { userErrors { code } } }",
            "variables": {"id": gid("Segment", self.scratch_segment)}}), self.key))

    # -- phase 2: load -----------------------------------------------------------------------

    def load(self, logdir):
        servers = self.start_servers(logdir)
        duration = self.args.duration
        try:
            reads = ["dashboard", "unassigned-first", "unassigned-deep", "members-deep",
                     "recipients-deep", "profile", "filter", "history-first", "history-deep"]
            writes = ["assign-1000", "churn-1000", "engagement"]
            for workload in [w for w in reads + writes if w in self.args.workloads]:
                order = list(self.workloads[workload])
                # Warm every server on this workload.
                for server in order:
                    self.wrk(server, workload, 1, record=False)
                for _ in range(self.args.rounds):
                    for server in order:
                        self.wrk(server, workload, duration)
                    order = order[1:] + order[:1]  # A,B,C then B,C,A...
            for name, s in servers.items():
                self.rss[name] = s.peak_rss_mb()
        finally:
            for s in servers.values():
                s.stop()

    # -- phase 3: fair use, one key flooding (segments-api alone) -------------------------------

    def fair_use_phase(self, logdir):
        """One key's latency with the server idle, then while another key floods it: the
        profile query sent at a steady FAIR_USE_RATE a second (within the default budget) on
        one keep-alive connection, and, during the flood, wrk with CONCURRENCY connections
        sending one of FAIR_USE_FLOODS with a key of its own, which spends its budget within a
        second and is held and throttled from then on, running only what its budget restores.
        Default cost limits (the load runs switch them off)."""
        servers = self.start_servers(logdir, which=("segments-api",), metered=True)
        port = self.ports["segments-api"]
        bodies = self.workloads["profile"]["segments-api"]
        duration = max(self.args.duration, 2)
        self.fair_use = {}
        try:
            paced_latencies(port, bodies, self.key, FAIR_USE_RATE, 1)  # warm-up
            for workload in FAIR_USE_FLOODS:
                out = sh([self.bin, "api-key", "create", "--workspace", "Default", "--label",
                          f"bench flood {workload} {int(time.time())}"],
                         env=dict(os.environ, DATABASE_URL=f"{PG}/{self.db}"))
                flooder = re.search(r"sk_[A-Za-z0-9_-]+", out).group(0)
                env = dict(os.environ, BENCH_REQUESTS=self.files[(workload, "segments-api")],
                           BENCH_METHOD="POST", BENCH_PATH="/graphql", BENCH_AUTH=flooder,
                           BENCH_START="0")
                for _ in range(self.args.rounds):
                    idle = paced_latencies(port, bodies, self.key, FAIR_USE_RATE, duration)
                    self.settle()
                    flood = subprocess.Popen(
                        ["wrk", "-t1", f"-c{CONCURRENCY}", f"-d{duration + 1}s", "--timeout",
                         "30s", "--latency", "-s", os.path.join(HERE, "wrk.lua"),
                         f"http://127.0.0.1:{port}"],
                        env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                    time.sleep(0.5)  # the flood spends its budget and is being throttled
                    flooded = paced_latencies(port, bodies, self.key, FAIR_USE_RATE, duration)
                    out, _ = flood.communicate(timeout=duration + 60)
                    self.settle()
                    throttled = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
                    stats = {
                        "idle": latency_stats(idle), "flooded": latency_stats(flooded),
                        "flood_rps": parse_wrk(out)["rps"],
                        "flood_requests": int(re.search(r"(\d+) requests in", out).group(1)),
                        "throttled": int(throttled.group(1)) if throttled else 0,
                    }
                    self.fair_use.setdefault(workload, []).append(stats)
                    log(f"{self.db} fair-use, {workload} flood: idle p99 "
                        f"{stats['idle']['p99']:.1f} ms, flooded p99 {stats['flooded']['p99']:.1f} "
                        f"ms; flood {stats['flood_rps']:.0f} req/s, {stats['throttled']} of "
                        f"{stats['flood_requests']} throttled")
        finally:
            for s in servers.values():
                s.stop()

    # -- phase 4: RULE segments and filters (segments-api alone) --------------------------------

    def rules_phase(self, logdir):
        """`updateInfluencer` with no RULE segment in the workspace and then with RULES of them,
        the time to create each (the first over a tenth of the roster), and an assignment and a
        removal by filter of up to 100,000 influencers. Leaves the database as seeded, except
        for the seed's RULE segments, which end up MANUAL (see below)."""
        servers = self.start_servers(logdir, which=("segments-api",))
        self.rule_stats = {}
        try:
            # Without rules first: the seed's RULE segments are frozen into MANUAL ones (their
            # members stay, so every other figure is unchanged).
            seeded = [int(x) for x in psql(self.db, (
                f"SELECT id FROM segment WHERE workspace_id = {self.ws} AND kind = 'RULE' "
                "ORDER BY id DESC")).split()]
            for segment in seeded:
                self.call("mutation($id: ID!) { convertSegment(input: {id: $id, to: MANUAL}) { "
                          "userErrors { code } } }", {"id": gid("Segment", segment)})
            block = 0
            for phase in ("update-none", f"update-{RULES}"):
                if phase != "update-none":
                    self.create_rules()
                # Both phases start alike: the tables the updates write vacuumed (creating the
                # rules wrote a membership for every match) and their pages written out, so
                # neither phase pays for the other's leftovers.
                psql(self.db, "VACUUM ANALYZE influencer, segment_membership")
                psql(self.db, "CHECKPOINT")
                self.wrk("segments-api", "update", 1, record=False, start=block * UPDATE_BLOCK)
                block += 1
                for _ in range(self.args.rounds):
                    result = self.wrk("segments-api", "update", self.args.duration, record=False,
                                      start=block * UPDATE_BLOCK)
                    block += 1
                    self.results.setdefault((phase, "segments-api"), []).append(result)
                    log(f"{self.db} {phase}: {result['rps']:.0f} req/s, p50 {result['p50']:.1f} ms")
            # Members still equal matches after thousands of updates crossed the thresholds.
            self.check_rules()
            self.by_filter()
            for segment in self.rule_segments:
                self.call("mutation($id: ID!) { deleteSegment(input: {id: $id}) { "
                          "userErrors { code } } }", {"id": gid("Segment", segment)})
        finally:
            for s in servers.values():
                s.stop()

    def call(self, query, variables):
        return self.expect_ok("segments-api", post(
            self.ports["segments-api"], json.dumps({"query": query, "variables": variables}), self.key))

    def create_rules(self):
        self.rule_segments, seconds = [], []
        for n, rule in enumerate(self.rules):
            start = time.monotonic()
            made = self.call(OURS_CREATE_RULE, {"name": f"Benchmark rule {n + 1}", "rule": rule})
            seconds.append(time.monotonic() - start)
            segment = made["data"]["createSegment"]["segment"]
            self.rule_segments.append(pk(segment["id"]))
            if n == 0:
                self.rule_stats["tenth"] = (segment["memberCount"], seconds[0])
                log(f"{self.db}: a rule over {segment['memberCount']:,} influencers made in "
                    f"{seconds[0]:.2f} s")
        self.rule_stats["create"] = sorted(seconds)
        self.check_rules()

    def check_rules(self):
        """Each RULE segment's members are exactly its rule's matches."""
        for segment, rule in zip(self.rule_segments, self.rules):
            members = self.call(OURS_MEMBERS, {"id": gid("Segment", segment)})
            matches = self.call(OURS_COUNT, {"f": rule})
            held = members["data"]["node"]["memberCount"]
            want = matches["data"]["influencers"]["totalCount"]
            if held != want:
                raise BenchFailure(f"RULE segment {segment}: {held} members, {want} matches")
        log(f"{self.db}: {len(self.rule_segments)} RULE segments equal their matches")

    def by_filter(self):
        """One assignment by filter of up to 100,000 influencers into a new MANUAL segment, and
        its removal by the same filter, each one request (one transaction), timed."""
        rule = {"followerCount": {"max": self.follower_quantile(min(100_000, self.size))}}
        start = time.monotonic()
        made = self.call(
            "mutation($f: InfluencerFilter!) { assignToSegment(input: {filter: $f, segment: "
            "{create: {name: \"Benchmark assignment by filter\"}}}) { segment { id } addedCount "
            "userErrors { code } } }", {"f": rule})
        assigned = time.monotonic() - start
        payload = made["data"]["assignToSegment"]
        segment = payload["segment"]["id"]
        start = time.monotonic()
        removed = self.call(
            "mutation($f: InfluencerFilter!, $s: ID!) { removeFromSegment(input: {filter: $f, "
            "segmentId: $s}) { removedCount userErrors { code } } }", {"f": rule, "s": segment})
        seconds = time.monotonic() - start
        count = removed["data"]["removeFromSegment"]["removedCount"]
        if count != payload["addedCount"]:
            raise BenchFailure(f"assigned {payload['addedCount']} by filter, removed {count}")
        self.rule_stats["by-filter"] = (payload["addedCount"], assigned, seconds)
        log(f"{self.db}: assigned {count:,} by filter in {assigned:.2f} s, removed in "
            f"{seconds:.2f} s")
        self.call("mutation($id: ID!) { deleteSegment(input: {id: $id}) { userErrors { code } } }",
                  {"id": segment})

    def settle(self):
        """Cancels the statements a finished run left running in PostgreSQL and waits until none
        is active. A server whose requests take seconds (a full count on a million rows) keeps
        its last requests' statements running after the load tool has gone; left alone they
        would take CPU from the next server's run."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            active = int(psql("postgres", (
                "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE datname = "
                f"'{self.db}' AND state = 'active' AND pid <> pg_backend_pid()")))
            if active == 0:
                return
            time.sleep(0.2)
        raise BenchFailure(f"statements still running on {self.db} a minute after a run")

    def wrk(self, server, workload, duration, record=True, start=0):
        path = self.files[(workload, server)]
        if server == "baseline":
            result = run_wrk(self.ports[server], path, duration, method="GET")
        else:
            result = run_wrk(self.ports[server], path, duration,
                             key=self.key if server == "segments-api" else "", start=start)
        self.settle()
        if result["failed"]:
            raise BenchFailure(f"{server} {workload}: {result['failed']} of {result['requests']} "
                               "requests failed")
        if record:
            self.results.setdefault((workload, server), []).append(result)
            log(f"{self.db} {workload} {server}: {result['rps']:.0f} req/s, "
                f"p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms")
        return result

    def median(self, workload, server):
        runs = self.results.get((workload, server))
        if not runs:
            return None
        runs = sorted(runs, key=lambda r: r["rps"])
        return runs[len(runs) // 2]


# ---------------------------------------------------------------------------------------------
# Report


def fmt(value, digits=0):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.{digits}f}"


def report(args, runs, meta):
    out = []
    w = out.append
    w("# Benchmarks\n")
    if args.smoke:
        w("Smoke run (tiny data, short runs): checks that the benchmark works; the figures mean "
          "nothing.\n")
    w("segments-api against [PostGraphile 4](https://www.graphile.org/postgraphile/) on the same "
      "PostgreSQL database, with a hand-written baseline for the reads: the same result computed "
      "by one SQL query and serialized with serde in a minimal axum handler "
      "([bench/baseline](bench/baseline/src/main.rs)). Everything here was written by "
      "`bench/run.sh` from one run; nothing is typed by hand.\n")
    w("## Machine and versions\n")
    for k, v in meta.items():
        w(f"- {k}: {v}")
    w("")
    w("## Commands\n")
    w("```sh")
    w(meta["_command"] if "_command" in meta else "bash bench/run.sh")
    w("```\n")
    w("## Method\n")
    w(f"- Each size gets a fresh database, seeded with `segments-api seed --influencers N` "
      f"(release build), then `VACUUM ANALYZE`.")
    w(f"- Load: `wrk -t1 -c{CONCURRENCY} -d{args.duration}s --latency -s bench/wrk.lua`, one "
      f"thread and {CONCURRENCY} connections for every server; load generator, servers and "
      f"PostgreSQL share the machine's cores. Every server gets a 1 s warm-up per workload, then "
      f"{args.rounds} measured runs; the servers take turns (A,B,C then B,C,A ...), and each cell "
      f"shows the run with the median throughput. A request counts as failed on a status other "
      f"than 200, a GraphQL `errors` entry or a non-empty `userErrors`; any failure stops the "
      f"benchmark. After every run, statements the server still has running in PostgreSQL "
      f"(requests that outlived the load tool) are cancelled before the next run starts.")
    w("- Every server is checked to return the same data for every read (ids, names, counts, "
      "timestamps, order) before it is measured; the writes are checked in the database.")
    w("- Statements per request: `ALTER DATABASE <db> SET log_statement = 'all'` (for this "
      "database only, servers started after it), one warm-up request, then 3 sequential "
      "requests; the statement lines of that database in the PostgreSQL server log "
      "(`statement:` and `execute`, so BEGIN/COMMIT and set-up statements count too) divided by "
      "3. Logging is switched off again before the load runs.")
    w("- Pools: segments-api 10 connections (`DB_MAX_CONNECTIONS=10`), PostGraphile "
      "`--max-pool-size 10`, baseline 10. Every server connects over plain TCP on the loopback "
      "(`sslmode=disable`): node-postgres uses no TLS unless told to, while sqlx's default "
      "(`prefer`) would negotiate it with this PostgreSQL. Both sqlx pools (segments-api and the "
      "baseline) ping a connection before use only when it sat idle for a second (sqlx pings "
      "every connection when it returns to the pool anyway). segments-api runs with "
      "`API_KEY_CACHE_SECONDS=3600`: it looks the benchmark's API key up once instead of once "
      "every 5 s (the default), which would show as a fraction of a statement in some counts "
      "(PostGraphile and the baseline run without authentication), and with "
      "`REQUEST_TIMEOUT_SECONDS=120` instead of 10, so that a RULE segment's creation is "
      "measured however long it takes rather than cut off.")
    w("- PostGraphile runs with `NODE_ENV=production --disable-query-log --disable-graphiql --dynamic-json "
      "--no-setof-functions-contain-nulls --disable-default-mutations`, exposing "
      "`public` and `postgraphile_bench`, where [bench/postgraphile/setup.sql]"
      "(bench/postgraphile/setup.sql) defines `unassigned_influencers(ws)` (a `setof influencer` "
      "function: PostGraphile serves it as a connection with `totalCount`) and the two mutation "
      "functions.")
    w("- Peak RSS: `VmHWM` of each server process from `/proc/PID/status` after all its load "
      "runs on that size.")
    w("")
    w("### Workloads\n")
    w("| workload | segments-api | PostGraphile | baseline |")
    w("|---|---|---|---|")
    w("| dashboard | `segments(first: 50)` with `memberCount` and `influencers(first: 20)`, each "
      "with `segments` | `allSegments(first: 50)` with `segmentMembershipsByWorkspaceIdAndSegmentId { totalCount }` "
      "and the first 20 memberships' influencers with their memberships' segments | "
      "`GET /dashboard` |")
    w(f"| unassigned-first | `unassigned(first: {PAGE})` with `totalCount` | "
      f"`unassignedInfluencers(ws, first: {PAGE})` with `totalCount` | `GET /unassigned` |")
    w(f"| unassigned-deep | the same after the cursor of the row at 90% of the folder (the folder is a fifth of the roster, so 90% of it is about as deep as a page can be: 180,000 rows on 1,000,000 influencers, not the 500,000 first planned; keyset "
      f"cursor `cursor:<id>`) | the same with `after:` a cursor of that position (PostGraphile's "
      f"cursors on a function connection are `[\"natural\", offset]`: offset-based) | `after=<id>` |")
    w(f"| members-deep | `segment(id:) {{ influencers(first: {PAGE}, after:) }}` with `totalCount`, "
      "after the cursor of the member at 90% of the biggest segment | `segmentMembers(ws, seg, "
      f"first: {PAGE}, after:)` (a function over the memberships, ordered by influencer id) with "
      "`totalCount`, after an offset cursor of that position | – |")
    w(f"| recipients-deep | `campaign(id:) {{ recipients(first: {PAGE}, after:) }}` with "
      "`totalCount`, after the cursor of the recipient at 90% of the campaign with the most | "
      f"`campaignRecipients(ws, campaign, first: {PAGE}, after:)` (a function: influencers in any "
      "audience segment, each once) with `totalCount`, after an offset cursor of that position | – |")
    w("| profile | `influencer(id:)` with `memberships { assignedAt source segment { id name } }` | "
      "`influencerByWorkspaceIdAndId(workspaceId:, id:)` with `segmentMembershipsByWorkspaceIdAndInfluencerId` | `GET /influencer/ID` |")
    w(f"| filter | `influencers(first: {PAGE}, filter:)` with `totalCount`: platform in (TIKTOK, "
      "INSTAGRAM), niche in (fitness, beauty), 50,000 to 500,000 followers, handle or display "
      f"name containing \"a\" | `allInfluencers(first: {PAGE}, filter:)` with `totalCount`, the "
      "same conditions with postgraphile-plugin-connection-filter on the key columns | – |")
    w(f"| history-first | `membershipChanges(first: {PAGE})`: the workspace's membership history "
      "from its start (each change with its actor) | – | – |")
    w("| history-deep | the same after the cursor of the change at 90% of the history (the seed "
      "records a change per membership it makes: the Targets give how many) | – | – |")
    w("| assign-1000 | `assignToSegment` with 1,000 ids (30 different bodies in turn) | "
      "`assignToSegment` function mutation, same ids | – |")
    w("| churn-1000 | `assignToSegment` of 1,000 ids, then (30 requests later) `removeFromSegment` of "
      "the same ids; every request makes or ends 1,000 memberships and records them in the "
      "membership history | `assignToSegment` and `removeFromSegment` function mutations, same ids | – |")
    w("| engagement | `recordEngagement` (EMAIL_REPLIED; the campaign has two automations for it) | "
      "`recordEngagement` function mutation | – |")
    w("")
    for run in runs:
        w(f"## {run.size:,} influencers\n")
        w(f"Seed: {run.seed_summary}, in {run.seed_seconds:.1f} s. Unassigned folder: "
          f"{run.unassigned_total:,}; deep page after {run.deep_offset:,} rows.\n")
        w("| workload | server | req/s | p50 ms | p99 ms | statements/request | "
          "req/s vs PostGraphile | p99 vs PostGraphile | req/s vs baseline |")
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for workload in run.workloads:
            if workload == "update":
                continue  # The rules phase's, reported below.
            pg = run.median(workload, "postgraphile")
            base = run.median(workload, "baseline")
            for server in run.workloads[workload]:
                r = run.median(workload, server)
                ours = server == "segments-api"
                w(f"| {workload} | {server} | {fmt(r and r['rps'])} | {fmt(r and r['p50'], 1)} | "
                  f"{fmt(r and r['p99'], 1)} | {fmt(run.statements.get((workload, server)), 1)} | "
                  f"{ratio(r['rps'], pg['rps']) if ours and r and pg else ''} | "
                  f"{ratio(r['p99'], pg['p99']) if ours and r and pg else ''} | "
                  f"{ratio(r['rps'], base['rps']) if ours and r and base else ''} |")
        w("")
        first = run.median("unassigned-first", "segments-api")
        deep = run.median("unassigned-deep", "segments-api")
        pg_first = run.median("unassigned-first", "postgraphile")
        pg_deep = run.median("unassigned-deep", "postgraphile")
        w(f"- Deep vs first Unassigned page, p50 latency: segments-api "
          f"{ratio(deep and deep['p50'], first and first['p50'])}x, PostGraphile "
          f"{ratio(pg_deep and pg_deep['p50'], pg_first and pg_first['p50'])}x.")
        w(f"- Statements for the dashboard with 1 / 10 / 100 segments: "
          + "; ".join(f"{s} {fmt(run.scaling.get((s, 1)), 1)} / {fmt(run.scaling.get((s, 10)), 1)}"
                      f" / {fmt(run.scaling.get((s, 100)), 1)}"
                      for s in ("segments-api", "postgraphile", "baseline"))
          + ". segments-api's are measured on requests that each follow a write to the workspace "
          "(which forgets kept counts), so every count is made; with counts kept as under load, "
          "where the member-count statement is skipped when all of a request's counts are kept: "
          + " / ".join(fmt(run.scaling.get(("segments-api kept", n)), 1) for n in (1, 10, 100))
          + ".")
        w(f"- Statements for one `assignToSegment` of 10,000 ids: segments-api "
          f"{fmt(run.statements.get(('assign-10000', 'segments-api')), 0)}, PostGraphile "
          f"{fmt(run.statements.get(('assign-10000', 'postgraphile')), 0)}.")
        w(f"- Peak RSS (VmHWM) after the load runs: " + ", ".join(
            f"{s} {fmt(v, 1)} MB" for s, v in run.rss.items()) + ".")
        w("")
    fair_use_section(runs, w)
    rules_section(runs, w)
    targets = targets_section(runs)
    w(targets)
    w(NOTES)
    return "\n".join(out) + "\n"


NOTES = """### How segments-api answers, and why where a target is not met yet

- **Batching without waiting.** Relations load through per-request batch loaders: one
  statement per relation level, whatever the number of objects. A batch starts as soon as the
  request's task has polled every resolver of its level (the first load yields to the scheduler
  until no more keys arrive), instead of after a fixed delay: async-graphql's own DataLoader
  waits 1 ms per level, which was most of the profile page's latency.
- **API keys** are kept in memory for 5 s (on PostgreSQL every instance drops them at once when
  a key is revoked, through NOTIFY), so a request no longer spends a statement on its key.
- **Profile.** One statement: `influencer(id:)` sees that memberships are selected and reads
  the influencer with its memberships and their segments in one join, a statement written out
  once and decoded by column position (SeaORM's three-model select built the SQL text and
  formatted a prefixed name per column on every request; writing it out took the server's CPU
  per request from about 0.125 to 0.098 ms). The HTTP middleware is one layer stack (one `Router::layer` per middleware boxed the
  routes again, and every request cloned each box) and the shared state one `Arc`. What still
  separates segments-api from the baseline is per-request CPU on the server, with load
  generator, servers and PostgreSQL sharing two cores: `perf` under this load puts most of
  segments-api's own share in executing and validating the operation in async-graphql (every
  field a boxed future, every object a map; validation runs on every request, also for a
  query text seen before), then the request's log line, metrics and the database driver (sqlx
  checks every connection it takes back with a round trip, for the baseline too). Server CPU
  per profile request went from 0.125 to 0.095 ms with these changes (`/proc` CPU counters of
  the server and of PostgreSQL under `wrk -t1 -c8`, binaries alternated; the baseline: 0.042 ms).
- **No async-graphql extensions.** Limits, error codes, response shaping and the operation log
  wrap the schema as an `Executor`: with any extension registered, async-graphql resolves every
  field and list item through the extension chain, with a registry lookup and a type name per
  field, which the dashboard's thousands of fields paid for.
- **Dashboard.** The member pages of the 50 segments are one `LATERAL` join on PostgreSQL (an
  index walk per segment; its plan is small and kept), where a `UNION ALL` of 50 subqueries
  cost about 15 ms of planning per request. What remains on segments-api's side is executing
  about 8,000 GraphQL fields (3,500 objects) per request in async-graphql, which costs more CPU
  than PostgreSQL's part.
- **Unassigned.** segments-api pages by keyset and keeps counts that take 20 ms or more for 10 s
  (then recounts them in the background while requests keep getting the kept value), so a count
  is at most about 11 s old, and a write forgets its workspace's kept counts when it commits (on
  every instance, through the membership notifications); smaller counts are exact on every
  request.
  PostGraphile and the baseline count exactly on every request (an anti-join over the whole
  roster), and PostGraphile's cursor on a function connection is an offset, so its deep page
  also walks every row before the cursor. segments-api's p99 includes the first requests after
  start, which wait for the first count (later recounts no longer hold a request). A page after a cursor bounds the membership side of
  its anti-join by the cursor too (PostgreSQL does not carry `id > cursor` across the join), so
  a deep page merge-joins two index ranges starting at the cursor, like the first page, instead
  of probing the membership index once per influencer: PostgreSQL CPU per deep-page request on
  1M went from about 0.47 to 0.34 ms (first page: 0.23 ms).
- **Writes.** `assignToSegment` runs 6 statements whatever the number of ids (transaction
  begin, one check of all ids, the segment, one INSERT ... SELECT ... ON CONFLICT, the
  live-update notification, commit); the check and the insert each carry the 1,000 ids as one
  array parameter (`= ANY($1)`, one statement text for any number of ids, prepared once per
  connection; an `IN` list of 1,000 parameters cost about 15% more PostgreSQL CPU). Most of
  the remaining PostgreSQL time is the two passes over 1,000 random ids (the check, then the
  insert's select of the influencer rows); PostGraphile's mutation is one PL/pgSQL function
  call that counts the ids it finds (one pass, without telling which are unknown) and inserts
  straight from the array. The issue's target for writes is a constant number of statements.
- **Filter.** `influencers(filter:)` is one keyset page and one count, each a single statement
  with the filter as one condition on the influencer table (membership and engagement
  conditions as correlated `EXISTS`); the count of a slow filter is kept like Unassigned's (a
  write to the workspace forgets it), which is why repeated requests of one filter are cheap.
  PostGraphile with the filter plugin counts on every request.
- **RULE segments.** Creating a rule evaluates it over the roster in one `INSERT ... SELECT` (and
  one `DELETE` of members that no longer match). An update of one influencer locks the
  workspace's rules (its row `FOR KEY SHARE`, reading the rules' version; the rules themselves
  stay compiled in memory per version) in the statement that locks the influencer's row, then
  decides on the old and new row which rules' conditions change verdict (a count moved across a
  rule's bound, a niche into or out of its list): only those rules, and the rules naming their
  segments, are evaluated. The rules the row's own fields settle are decided there; the others
  by one statement that gives whether the influencer matches each and which of their segments
  it is in. The memberships that change are written in one statement (an insert and a delete as
  two data-modifying `WITH` parts), with one notification statement. The benchmark's updates
  draw follower counts log-uniformly over three and a half decades, so nearly every update
  moves the influencer across some of the 36 rules that read followers: it measures the
  expensive case, where each update also writes memberships and their live-update
  notifications. What remains over an update without rules is those statements (one to three
  more round trips) and, mostly, the commit: a transaction that sent `NOTIFY` holds
  PostgreSQL's notification queue lock from its commit until its commit record is on disk, so
  such commits take turns instead of sharing a flush. In one run at 1,000,000 with every
  statement's duration logged (`log_min_duration_statement = 0`), `COMMIT` took 1.24 ms on
  average with 50 rules against 0.61 ms with none, while all the rules' statements together
  added about 0.3 ms an update.
- **Statements for 1 / 10 / 100 segments.** The count per level does not grow with the result.
  The target row counts requests that make every count (each follows a write, which forgets
  kept counts); with kept counts a request may skip the member-count statement, when every
  member count it needs is kept (slow counts of huge segments, see Unassigned), so that row can
  differ by one between sizes depending on which counts were slow.
"""


def fair_use_section(runs, w):
    runs = [run for run in runs if getattr(run, "fair_use", None)]
    if not runs:
        return
    w("## Fair use: one key flooding\n")
    w(f"segments-api alone with its default cost limits (each key: 100,000 points, 10,000 "
      f"restored a second; the load runs above switch them off). One key sends the profile "
      f"query {FAIR_USE_RATE} times a second on one keep-alive connection (bench/driver.py, "
      f"`paced_latencies`) for {max(args_duration(runs), 2)} s with the server otherwise idle, "
      f"then again while a second key floods the server from wrk ({CONCURRENCY} connections) "
      f"with the profile query or with the dashboard. The flooding key spends its budget at "
      f"once; from then on each of its requests is held up to a second and answered 429, or "
      f"run when its points come, so it still runs what its budget restores. Latencies of the "
      f"first key, median of the rounds by p99; the issue's target is a flooded p99 within 2x "
      f"of idle.\n")
    w("| size | flood | idle p50 / p99 ms | flooded p50 / p99 ms | p99 ratio | flood req/s | flood "
      "requests throttled |")
    w("|---|---|---:|---:|---:|---:|---:|")
    for run in runs:
        for workload in run.fair_use:
            r = median_fair_use(run, workload)
            w(f"| {run.size:,} | {workload} | {r['idle']['p50']:.2f} / {r['idle']['p99']:.2f} | "
              f"{r['flooded']['p50']:.2f} / {r['flooded']['p99']:.2f} | "
              f"{r['flooded']['p99'] / r['idle']['p99']:.2f}x | {r['flood_rps']:.0f} | "
              f"{r['throttled']:,} of {r['flood_requests']:,} |")
    w("")


def median_fair_use(run, workload):
    """The fair-use round of a flood with the median p99 ratio (flooded over idle)."""
    rounds = sorted(run.fair_use[workload], key=lambda r: r["flooded"]["p99"] / r["idle"]["p99"])
    return rounds[len(rounds) // 2]


def args_duration(runs):
    return runs[0].args.duration


def rules_section(runs, w):
    runs = [run for run in runs if getattr(run, "rule_stats", None)]
    if not runs:
        return
    w("## RULE segments and filters\n")
    w(f"segments-api alone, after the load runs, on the same database: `updateInfluencer` "
      f"(a new follower count, drawn log-uniformly from 1,000 to 5,000,000, for a different "
      f"influencer in every request) with no RULE segment in the workspace (the seed's are "
      f"converted to MANUAL first), then the same with {RULES} RULE segments, created through "
      f"`createSegment` one after the other: the first matches about a tenth of the roster "
      f"(`followerCount: {{max: q}}`), the others mix platform, niche, follower ranges, "
      f"membership of MANUAL segments, engagement within 7 to 90 days, search, `anyOf` and `not` "
      f"(bench/driver.py, `bench_rules`). Each phase starts after `VACUUM ANALYZE` of the "
      f"influencer and membership tables and a `CHECKPOINT`. Before and after the updates, "
      f"every RULE segment's "
      f"`memberCount` is checked against `influencers(filter: rule) {{ totalCount }}`. Then one "
      f"`assignToSegment` by filter of up to 100,000 influencers into a new segment, and one "
      f"`removeFromSegment` by the same filter; each is one request and one transaction, timed "
      f"by the driver around the HTTP call. wrk runs as above ({CONCURRENCY} connections), "
      f"median of the runs by throughput.\n")
    w(f"| size | rule over a tenth: members, s | {RULES - 1} other rules: median / max s | "
      f"updateInfluencer, no rules: req/s, p50 ms | with {RULES}: req/s, p50 ms | p50 ratio | "
      f"assign by filter: influencers, s | remove by filter: s |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        stats = run.rule_stats
        members, tenth = stats["tenth"]
        others = stats["create"][1:] or [0.0]
        none, full = run.median("update-none", "segments-api"), run.median(f"update-{RULES}", "segments-api")
        count, assigned, removed = stats["by-filter"]
        w(f"| {run.size:,} | {members:,}, {tenth:.2f} | {others[len(others) // 2]:.2f} / "
          f"{others[-1]:.2f} | {none['rps']:.0f}, {none['p50']:.1f} | {full['rps']:.0f}, "
          f"{full['p50']:.1f} | {full['p50'] / none['p50']:.2f}x | {count:,}, {assigned:.2f} | "
          f"{removed:.2f} |")
    w("")


def targets_section(runs):
    lines = ["## Targets\n", "Measured against the targets of the benchmark issue, per size:\n",
             "| target | " + " | ".join(f"{r.size:,}" for r in runs) + " |",
             "|---|" + "---|" * len(runs)]

    def row(name, check):
        cells = []
        for run in runs:
            try:
                cells.append(check(run))
            except (TypeError, KeyError, ZeroDivisionError, AttributeError):
                cells.append("–")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    def verdict(ok, text):
        return ("met: " if ok else "not met: ") + text

    for workload in ("dashboard", "unassigned-first", "unassigned-deep", "profile"):
        def check(run, workload=workload):
            ours, pg, base = (run.median(workload, s) for s in ("segments-api", "postgraphile", "baseline"))
            ok = ours["rps"] >= 2 * pg["rps"] and ours["p99"] <= pg["p99"] and ours["rps"] >= 0.5 * base["rps"]
            return verdict(ok, f"{ours['rps'] / pg['rps']:.2f}x PostGraphile req/s, p99 "
                               f"{ours['p99'] / pg['p99']:.2f}x, {ours['rps'] / base['rps']:.2f}x baseline")
        row(f"{workload}: ≥2x PostGraphile req/s, p99 ≤ PostGraphile's, ≥0.5x baseline", check)
    row("deep Unassigned page p50 within 2x of the first page's", lambda run: verdict(
        run.median("unassigned-deep", "segments-api")["p50"]
        <= 2 * run.median("unassigned-first", "segments-api")["p50"],
        f"{run.median('unassigned-deep', 'segments-api')['p50'] / run.median('unassigned-first', 'segments-api')['p50']:.2f}x"))
    row("deep membership history page p50 within 2x of the first page's", lambda run: verdict(
        run.median("history-deep", "segments-api")["p50"]
        <= 2 * run.median("history-first", "segments-api")["p50"],
        f"{run.median('history-deep', 'segments-api')['p50'] / run.median('history-first', 'segments-api')['p50']:.2f}x "
        f"over {run.history_total:,} changes"))
    row("statements per request constant for 1 / 10 / 100 segments", lambda run: verdict(
        run.scaling[("segments-api", 1)] == run.scaling[("segments-api", 10)]
        == run.scaling[("segments-api", 100)],
        " / ".join(fmt(run.scaling[("segments-api", n)], 1) for n in (1, 10, 100))))
    row("assignToSegment of 10,000 ids: a constant number of statements", lambda run: verdict(
        run.statements[("assign-10000", "segments-api")] == run.statements[("assign-1000", "segments-api")],
        f"{fmt(run.statements[('assign-10000', 'segments-api')])} statements (1,000 ids: "
        f"{fmt(run.statements[('assign-1000', 'segments-api')])})"))
    def filter_check(run):
        ours, pg = run.median("filter", "segments-api"), run.median("filter", "postgraphile")
        ok = ours["rps"] > pg["rps"] and (run.size < 1_000_000 or ours["p50"] < 100)
        return verdict(ok, f"{ours['rps'] / pg['rps']:.2f}x PostGraphile req/s, p50 "
                           f"{ours['p50']:.1f} ms")
    row("filter: ahead of PostGraphile with the filter plugin; p50 < 100 ms on 1M", filter_check)
    row("RULE segment over a tenth of the roster made in < 10 s (1M)", lambda run: verdict(
        run.size < 1_000_000 or run.rule_stats["tenth"][1] < 10,
        f"{run.rule_stats['tenth'][0]:,} members in {run.rule_stats['tenth'][1]:.2f} s"))
    row(f"updateInfluencer with {RULES} RULE segments: p50 ≤ 2x with none", lambda run: verdict(
        run.median(f"update-{RULES}", "segments-api")["p50"]
        <= 2 * run.median("update-none", "segments-api")["p50"],
        f"{run.median(f'update-{RULES}', 'segments-api')['p50'] / run.median('update-none', 'segments-api')['p50']:.2f}x"))
    row("assign by filter of 100,000 (one request, one transaction): its time", lambda run:
        f"{run.rule_stats['by-filter'][0]:,} in {run.rule_stats['by-filter'][1]:.2f} s")
    for workload in FAIR_USE_FLOODS:
        def fair_use_check(run, workload=workload):
            r = median_fair_use(run, workload)
            ratio = r["flooded"]["p99"] / r["idle"]["p99"]
            return verdict(ratio <= 2, f"{ratio:.2f}x")
        row(f"one key flooding with the {workload} query: another key's p99 within 2x of idle",
            fair_use_check)
    row("segments-api peak RSS under load < 150 MB", lambda run: verdict(
        run.rss["segments-api"] < 150, f"{run.rss['segments-api']:.1f} MB"))
    return "\n".join(lines) + "\n"


def meta_info(args):
    def first_line(cmd):
        try:
            return subprocess.run(cmd, text=True, capture_output=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"

    lscpu = sh(["lscpu"])
    model = re.search(r"Model name:\s+(.*)", lscpu)
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    pg_pkg = os.path.join(HERE, "postgraphile", "node_modules", "postgraphile", "package.json")
    with open(pg_pkg) as f:
        postgraphile_version = json.load(f)["version"]
    return {
        "CPU": f"{model.group(1).strip() if model else '?'}, {os.cpu_count()} cores",
        "RAM": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "OS": first_line(["uname", "-sr"]),
        "rustc": first_line(["rustc", "--version"]),
        "PostgreSQL": psql("postgres", "SHOW server_version"),
        "node": first_line(["node", "--version"]),
        "PostGraphile": postgraphile_version,
        "wrk": first_line(["wrk", "--version"]).split(" Copyright")[0],
        "segments-api": first_line(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
        + f" ({os.path.relpath(args.bin, ROOT)})",
    }


# ---------------------------------------------------------------------------------------------
# Comparison of two builds

# The workloads every build since the tenant-key migration answers (the filter and the rules
# phase came later).
COMPARE_WORKLOADS = ["dashboard", "unassigned-first", "unassigned-deep", "members-deep",
                     "recipients-deep", "profile", "assign-1000", "churn-1000", "engagement"]


def compare(args, sizes):
    """This build against another (`--compare-bin`), side by side in one run. Each build seeds
    its own database with its own `seed` (their schemas may differ) and serves it on its own
    port; per workload both are warmed, then measured in alternating order, round by round, so
    that a drift of the machine falls on both alike. Reports throughput and latency ratios."""
    workloads = [w for w in args.workloads if w in COMPARE_WORKLOADS]
    label = args.compare_label or os.path.basename(args.compare_bin)
    here_rev = args.label or sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip()
    lines = [
        f"# {here_rev} against {label}, side by side",
        "",
        f"`{args.command}`: each build seeded its own database (`bench_<size>` and "
        f"`bench_<size>_compare`) with its own `seed`, and served it alone on PostgreSQL; per "
        f"workload both were warmed for 1 s, then measured {args.rounds} times for "
        f"{args.duration} s each in alternating order, wrk with {CONCURRENCY} connections; the "
        "median run by throughput is shown. Ratios above 1 favour this checkout.",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        logdir = os.environ.get("BENCH_LOG_DIR", tmp)
        os.makedirs(logdir, exist_ok=True)
        for size in sizes:
            here = SizeRun(args, size, tmp)
            there = SizeRun(args, size, tmp, bin=args.compare_bin, db_suffix="_compare",
                            port=PORTS["segments-api"] + 1)
            for run in (here, there):
                run.seed()
                run.prepare()
            servers = []
            try:
                for run in (here, there):
                    servers += run.start_servers(logdir, which=("segments-api",)).values()
                for workload in workloads:
                    for run in (here, there):
                        run.expect_ok("segments-api", run.ask("segments-api", workload))
                        run.wrk("segments-api", workload, 1, record=False)
                    order = [here, there]
                    for _ in range(args.rounds):
                        for run in order:
                            run.wrk("segments-api", workload, args.duration)
                        order.reverse()
            finally:
                for server in servers:
                    server.stop()
            lines += [f"## {size:,} influencers", "",
                      f"| workload | {here_rev}: req/s, p50 / p99 ms | {label}: req/s, p50 / p99 ms "
                      "| throughput ratio | p50 ratio |",
                      "|---|---:|---:|---:|---:|"]
            for workload in workloads:
                a = here.median(workload, "segments-api")
                b = there.median(workload, "segments-api")
                cell = lambda r: f"{r['rps']:.0f}, {r['p50']:.1f} / {r['p99']:.1f}"
                lines.append(f"| {workload} | {cell(a)} | {cell(b)} | {a['rps'] / b['rps']:.2f}x "
                             f"| {b['p50'] / a['p50']:.2f}x |")
            lines.append("")
    with open(args.report, "w") as f:
        f.write("\n".join(lines))
    log(f"report written to {args.report}")
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--baseline-bin")
    # Another build of segments-api to measure this one against (bench/compare.sh).
    parser.add_argument("--compare-bin")
    parser.add_argument("--compare-label")
    # What `--bin` is called in a comparison's report, when it is not this checkout's build.
    parser.add_argument("--label")
    parser.add_argument("--report", required=True)
    parser.add_argument("--command", default="bash bench/run.sh")
    # For working on one workload: keep a database seeded by an earlier run (its data then
    # includes that run's writes) and load only some workloads. Reports of such runs are partial.
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    args = parser.parse_args()
    args.workloads = args.workloads.split(",")
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    args.bin = os.path.abspath(args.bin)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.compare_bin:
        args.compare_bin = os.path.abspath(args.compare_bin)
        return compare(args, sizes)
    if not args.baseline_bin:
        parser.error("--baseline-bin is required (except with --compare-bin)")
    args.baseline_bin = os.path.abspath(args.baseline_bin)
    meta = meta_info(args)
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        logdir = os.environ.get("BENCH_LOG_DIR", tmp)
        os.makedirs(logdir, exist_ok=True)
        try:
            for size in sizes:
                run = SizeRun(args, size, tmp)
                run.seed()
                run.prepare()
                run.check_and_count(logdir)
                run.load(logdir)
                if "fair-use" in args.workloads:
                    run.fair_use_phase(logdir)
                if "rules" in args.workloads:
                    run.rules_phase(logdir)
                runs.append(run)
        except BenchFailure as e:
            log(f"FAILED: {e}")
            for name in PORTS:
                path = os.path.join(logdir, f"{name}.log")
                if os.path.exists(path):
                    log(f"--- last lines of {name}.log")
                    with open(path) as f:
                        print("".join(f.readlines()[-20:]), file=sys.stderr)
            return 1
    meta_lines = dict(meta)
    text = report(args, runs, meta_lines).replace(
        "```sh\nbash bench/run.sh\n```", f"```sh\n{args.command}\n```")
    with open(args.report, "w") as f:
        f.write(text)
    log(f"report written to {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
