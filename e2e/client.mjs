#!/usr/bin/env node
// A real client in the loop: graphql-request for queries and mutations, graphql-ws for
// subscriptions. Fetches the served schema by introspection, validates every operation document
// against it before sending anything, then walks the segments workflow with assertions.
//
//   node e2e/client.mjs http://127.0.0.1:8000/graphql ws://127.0.0.1:8000/graphql/ws sk_...
//
// Exits non-zero on any failure; prints each step.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GraphQLClient, ClientError } from 'graphql-request';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { buildClientSchema, getIntrospectionQuery, parse, print, validate } from 'graphql';

const [url, wsUrl, key] = process.argv.slice(2);
if (!url || !wsUrl || !key) {
  console.error('usage: node client.mjs URL WSURL KEY   (e.g. http://127.0.0.1:8000/graphql ws://127.0.0.1:8000/graphql/ws sk_...)');
  process.exit(2);
}

const run = randomBytes(4).toString('hex');
const authorization = `Bearer ${key}`;
const http = new GraphQLClient(url, { headers: { authorization } });
let failures = 0;

function step(message) {
  console.log(`client: ${message}`);
}

function fail(message, error) {
  failures += 1;
  console.log(`client: FAILED ${message}`);
  if (error) console.log(String(error?.stack ?? error).replace(/^/gm, '    '));
}

// ---------------------------------------------------------------------------------------------
// Every operation this client sends. Each is validated against the served schema first.
// ---------------------------------------------------------------------------------------------
const INFLUENCER = `fragment InfluencerFields on Influencer {
  id handle platform niche followerCount unassigned createdAt
  segments { id name }
  memberships { source assignedAt segment { id name } automation { id } }
}`;

const OPS = {
  viewer: `query Viewer { viewer { workspace { id name createdAt } } }`,
  createInfluencer: `mutation CreateInfluencer($input: CreateInfluencerInput!) {
    createInfluencer(input: $input) {
      influencer { ...InfluencerFields }
      userErrors { field message code }
    }
  }
  ${INFLUENCER}`,
  createSegment: `mutation CreateSegment($input: CreateSegmentInput!) {
    createSegment(input: $input) {
      segment { id name description memberCount }
      userErrors { field message code }
    }
  }`,
  assign: `mutation Assign($input: AssignToSegmentInput!) {
    assignToSegment(input: $input) {
      segment { id name memberCount }
      influencers { ...InfluencerFields }
      userErrors { field message code }
    }
  }
  ${INFLUENCER}`,
  remove: `mutation Remove($input: RemoveFromSegmentInput!) {
    removeFromSegment(input: $input) {
      segment { id name memberCount }
      influencers { ...InfluencerFields }
      userErrors { field message code }
    }
  }
  ${INFLUENCER}`,
  unassigned: `query Unassigned($first: Int!, $after: String) {
    unassigned(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { id handle unassigned segments { id } }
    }
  }`,
  segment: `query Segment($id: ID!) {
    segment(id: $id) {
      id name memberCount
      influencers(first: 100) { totalCount nodes { id handle } }
    }
    node(id: $id) { id ... on Segment { name } }
  }`,
  influencer: `query Influencer($id: ID!) { influencer(id: $id) { ...InfluencerFields } }
  ${INFLUENCER}`,
  createCampaign: `mutation CreateCampaign($input: CreateCampaignInput!) {
    createCampaign(input: $input) {
      campaign {
        id name status
        audience { id name }
        recipients(first: 100) { totalCount nodes { id } }
      }
      userErrors { field message code }
    }
  }`,
  addAutomation: `mutation AddAutomation($input: AddAutomationInput!) {
    addAutomation(input: $input) {
      automation {
        id trigger action enabled
        campaign { id }
        segment { id name memberCount }
      }
      userErrors { field message code }
    }
  }`,
  recordEngagement: `mutation RecordEngagement($input: RecordEngagementInput!) {
    recordEngagement(input: $input) {
      event { id kind externalId occurredAt influencer { id } campaign { id } }
      assignedSegments { id name }
      duplicate
      userErrors { field message code }
    }
  }`,
  membershipChanged: `subscription MembershipChanged($segmentId: ID) {
    segmentMembershipChanged(segmentId: $segmentId) {
      change
      influencerId
      influencer { id handle }
      segmentId
      segment { id name }
      source
      automation { id }
      at
    }
  }`,
  apq: `query PersistedViewer_${run} { viewer { workspace { id name } } }`,
  getQuery: `query ViaGet($search: String) { segments(first: 5, search: $search) { totalCount nodes { name } } }`,
  getMutation: `mutation ViaGet($name: String!) { createSegment(input: { name: $name }) { segment { id } userErrors { code } } }`,
};

const documents = {};

async function loadSchema() {
  step('introspecting the served schema');
  let introspection;
  try {
    introspection = await http.request(getIntrospectionQuery({ oneOf: true, inputValueDeprecation: true }));
  } catch (error) {
    // A server without `isOneOf` / input-value deprecation in its introspection: the plain query.
    step(`  extended introspection refused (${firstMessage(error)}); retrying the plain one`);
    introspection = await http.request(getIntrospectionQuery());
  }
  const schema = buildClientSchema(introspection);
  const types = Object.keys(schema.getTypeMap()).filter((name) => !name.startsWith('__'));
  step(
    `  ${types.length} types; query ${schema.getQueryType()?.name}, mutation ${schema.getMutationType()?.name}, ` +
      `subscription ${schema.getSubscriptionType()?.name ?? '(none)'}`,
  );
  return schema;
}

/** graphql-js 16 leaves this to execution: an operation whose root type the schema lacks. */
function rootTypeErrors(schema, document) {
  const roots = { query: schema.getQueryType(), mutation: schema.getMutationType(), subscription: schema.getSubscriptionType() };
  return document.definitions
    .filter((d) => d.kind === 'OperationDefinition' && !roots[d.operation])
    .map((d) => ({ message: `the schema has no ${d.operation} type (${d.name?.value ?? 'anonymous'} ${d.operation})` }));
}

function validateAll(schema) {
  step(`validating ${Object.keys(OPS).length} operation documents against the served schema`);
  const invalid = [];
  for (const [name, source] of Object.entries(OPS)) {
    let document;
    try {
      document = parse(source);
    } catch (error) {
      invalid.push(name);
      fail(`document ${name} does not parse: ${error.message}`);
      continue;
    }
    const errors = [...rootTypeErrors(schema, document), ...validate(schema, document)];
    if (errors.length > 0) {
      invalid.push(name);
      fail(`document ${name} is invalid against the served schema:\n${errors.map((e) => `  - ${e.message}`).join('\n')}`);
      continue;
    }
    documents[name] = document;
    step(`  valid: ${name}`);
  }
  return invalid;
}

function firstMessage(error) {
  if (error instanceof ClientError) {
    const errors = error.response?.errors;
    if (errors?.length) return errors.map((e) => e.message).join('; ');
    return `HTTP ${error.response?.status}`;
  }
  return error?.message ?? String(error);
}

async function send(name, variables) {
  const document = documents[name];
  assert.ok(document, `operation ${name} was not validated`);
  try {
    return await http.request(document, variables);
  } catch (error) {
    throw new Error(`${name} failed: ${firstMessage(error)}`, { cause: error });
  }
}

function noUserErrors(payload, what) {
  assert.deepEqual(payload.userErrors, [], `${what}: unexpected userErrors`);
}

// ---------------------------------------------------------------------------------------------
// Subscriptions over graphql-ws
// ---------------------------------------------------------------------------------------------
function openWs() {
  let connected;
  const ready = new Promise((resolve, reject) => {
    connected = { resolve, reject };
  });
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: authorization },
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => {}, // reported through `on.error` / `on.closed` below
    on: {
      connected: () => connected.resolve(),
      closed: (event) => connected.reject(new Error(`websocket closed before ack: ${event?.code} ${event?.reason ?? ''}`)),
      error: (error) => connected.reject(error instanceof Error ? error : new Error(`websocket error: ${error?.message ?? error}`)),

    },
  });
  return { client, ready };
}

/** Subscribes; collects events (and an error, if any) into the returned stream object. */
function listen(client, variables, label) {
  const stream = { label, events: [], error: null, completed: false, waiters: [] };
  stream.unsubscribe = client.subscribe(
    { query: print(documents.membershipChanged), variables },
    {
      next: (result) => {
        if (result.errors?.length) {
          stream.error = new Error(`${label}: ${result.errors.map((e) => e.message).join('; ')}`);
        } else {
          const event = result.data.segmentMembershipChanged;
          stream.events.push(event);
          step(
            `  event on ${label}: ${event.change} ${event.influencer?.handle ?? event.influencerId} ` +
              `${event.change === 'ADDED' ? 'to' : 'from'} ${event.segment?.name ?? event.segmentId} ` +
              `(${event.source}${event.automation ? ` ${event.automation.id}` : ''})`,
          );
        }
        stream.waiters.forEach((wake) => wake());
      },
      error: (error) => {
        stream.error = error instanceof Error ? error : new Error(`${label}: ${JSON.stringify(error)}`);
        stream.waiters.forEach((wake) => wake());
      },
      complete: () => {
        stream.completed = true;
        stream.waiters.forEach((wake) => wake());
      },
    },
  );
  return stream;
}

/** Waits until `predicate(events)` holds or the time is up. */
async function waitFor(stream, predicate, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!predicate(stream.events)) {
    if (stream.error) throw stream.error;
    if (stream.completed) throw new Error(`${stream.label} completed before ${what}`);
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Error(`${stream.label}: timed out after ${ms} ms waiting for ${what}; got ${JSON.stringify(stream.events)}`);
    }
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.min(left, 250));
      stream.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    stream.waiters = [];
  }
}

function matches(event, { change, influencer, segment, source, automation }) {
  return (
    event.change === change &&
    event.influencerId === influencer &&
    event.segmentId === segment &&
    event.source === source &&
    (automation === undefined || (event.automation?.id ?? null) === automation)
  );
}

// ---------------------------------------------------------------------------------------------
// Unassigned folder
// ---------------------------------------------------------------------------------------------
async function readUnassigned() {
  const nodes = [];
  let after = null;
  let totalCount;
  for (let page = 0; page < 1000; page += 1) {
    const { unassigned } = await send('unassigned', { first: 100, after });
    totalCount = unassigned.totalCount;
    nodes.push(...unassigned.nodes);
    if (!unassigned.pageInfo.hasNextPage) break;
    after = unassigned.pageInfo.endCursor;
  }
  for (const node of nodes) {
    assert.equal(node.unassigned, true, `unassigned lists ${node.handle} whose unassigned flag is false`);
    assert.deepEqual(node.segments, [], `unassigned lists ${node.handle}, which is in segments`);
  }
  assert.equal(nodes.length, totalCount, 'unassigned: totalCount differs from the listed nodes');
  return { totalCount, ids: new Set(nodes.map((n) => n.id)) };
}

// ---------------------------------------------------------------------------------------------
// APQ: Apollo automatic persisted queries, by hand
// ---------------------------------------------------------------------------------------------
async function apq() {
  step('APQ: automatic persisted queries');
  const query = OPS.apq;
  const sha256Hash = createHash('sha256').update(query).digest('hex');
  const persistedQuery = { version: 1, sha256Hash };
  const post = async (body) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  const get = async (params) => {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) search.set(name, typeof value === 'string' ? value : JSON.stringify(value));
    const response = await fetch(`${url}?${search}`, {
      headers: { authorization, accept: 'application/graphql-response+json, application/json' },
    });
    return { status: response.status, body: await response.json() };
  };
  const notFound = (res) =>
    res.body.errors?.some((e) => e.message === 'PersistedQueryNotFound' || e.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND');

  const miss = await post({ extensions: { persistedQuery } });
  assert.ok(notFound(miss), `hash only, first time: expected PersistedQueryNotFound, got HTTP ${miss.status} ${JSON.stringify(miss.body)}`);
  assert.equal(miss.body.data ?? null, null, 'a persisted-query miss carries no data');
  step('  hash only: PersistedQueryNotFound');

  const registered = await post({ query, extensions: { persistedQuery } });
  assert.equal(registered.status, 200, `hash and query: HTTP ${registered.status} ${JSON.stringify(registered.body)}`);
  assert.equal(registered.body.errors, undefined, `hash and query: ${JSON.stringify(registered.body.errors)}`);
  assert.ok(registered.body.data?.viewer?.workspace?.id, 'hash and query: no data');
  step('  hash and query: data (registered)');

  const hit = await post({ extensions: { persistedQuery } });
  assert.equal(hit.body.errors, undefined, `hash only, again: ${JSON.stringify(hit.body.errors)}`);
  assert.deepEqual(hit.body.data, registered.body.data, 'hash only, again: different data');
  step('  hash only again: data');

  const viaGet = await get({ extensions: { persistedQuery } });
  assert.equal(viaGet.status, 200, `GET with hash only: HTTP ${viaGet.status} ${JSON.stringify(viaGet.body)}`);
  assert.deepEqual(viaGet.body.data, registered.body.data, `GET with hash only: ${JSON.stringify(viaGet.body)}`);
  step('  GET with hash only: data');

  const wrong = await post({ query: `${query} `, extensions: { persistedQuery } });
  assert.ok(wrong.body.errors?.length, `a query that does not match its hash must be refused, got ${JSON.stringify(wrong.body)}`);
  step(`  query that does not match its hash: refused (${wrong.body.errors[0].message})`);

  const otherHash = createHash('sha256').update(`# ${run}\n${query}`).digest('hex');
  const otherMiss = await get({ extensions: { persistedQuery: { version: 1, sha256Hash: otherHash } } });
  assert.ok(notFound(otherMiss), `GET with an unknown hash: expected PersistedQueryNotFound, got ${JSON.stringify(otherMiss.body)}`);
  step('  GET with an unknown hash: PersistedQueryNotFound');
}

// ---------------------------------------------------------------------------------------------
// WebSocket authentication: connection_init carries the key
// ---------------------------------------------------------------------------------------------
/** Connects with `connectionParams`; resolves 'ack' or the close code/reason, within 5 s. */
function tryConnect(connectionParams) {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      Promise.resolve()
        .then(() => client.dispose())
        .catch(() => {});
      resolve(outcome);
    };
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams,
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => {},
      on: {
        connected: () => settle('ack'),
        closed: (event) => settle(`closed ${event?.code} ${event?.reason ?? ''}`.trim()),
        error: (error) => settle(`error ${error?.message ?? error}`),
      },
    });
    const timer = setTimeout(() => settle('timeout'), 5000);
  });
}

async function wsAuth() {
  step('WebSocket authentication');
  assert.equal(await tryConnect({ authorization: authorization }), 'ack', 'connection_init { authorization: "Bearer <key>" } is accepted');
  step('  lower-case authorization: acknowledged');
  assert.equal(await tryConnect({ apiKey: key }), 'ack', 'connection_init { apiKey: "<key>" } is accepted');
  step('  apiKey: acknowledged');
  const none = await tryConnect({});
  assert.notEqual(none, 'ack', 'a connection without a key must be refused');
  assert.notEqual(none, 'timeout', 'a connection without a key must be closed, not left waiting');
  // graphql-transport-ws: a refused connection_init closes with 4403 Forbidden, which clients
  // such as graphql-ws take as final (no reconnect loop).
  assert.match(none, /^closed 4403\b/, `a connection without a key closes with 4403 Forbidden, got ${none}`);
  step(`  no key: refused (${none})`);
  const wrong = await tryConnect({ Authorization: 'Bearer sk_not_a_key' });
  assert.match(wrong, /^closed 4403\b/, `a connection with an unknown key closes with 4403 Forbidden, got ${wrong}`);
  step(`  unknown key: refused (${wrong})`);
}

// ---------------------------------------------------------------------------------------------
// GraphQL over HTTP: GET, content negotiation, media types (raw fetch, not a client library)
// ---------------------------------------------------------------------------------------------
async function httpContract() {
  step('GraphQL over HTTP: GET, Accept negotiation, media types');
  const call = async (method, { params, body, headers = {} } = {}) => {
    const target = params ? `${url}?${new URLSearchParams(params)}` : url;
    const response = await fetch(target, { method, headers: { authorization, ...headers }, body });
    const text = await response.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // left null: asserted below where JSON is expected
    }
    return { status: response.status, type: response.headers.get('content-type') ?? '', json, text, headers: response.headers };
  };
  const show = (res) => `HTTP ${res.status} ${res.type} ${res.text.slice(0, 200)}`;
  const segmentName = `Via GET ${run}`;

  const get = await call('GET', {
    params: { query: OPS.getQuery, variables: JSON.stringify({ search: run }), operationName: 'ViaGet' },
    headers: { accept: 'application/graphql-response+json' },
  });
  assert.equal(get.status, 200, `GET query: ${show(get)}`);
  assert.match(get.type, /application\/graphql-response\+json/, `GET query content-type: ${show(get)}`);
  assert.equal(typeof get.json?.data?.segments?.totalCount, 'number', `GET query: ${show(get)}`);
  step('  GET ?query= runs a query (200, application/graphql-response+json)');

  const getJson = await call('GET', { params: { query: '{ __typename }' }, headers: { accept: 'application/json' } });
  assert.equal(getJson.status, 200, `GET with Accept: application/json: ${show(getJson)}`);
  assert.match(getJson.type, /application\/json/, `GET with Accept: application/json: ${show(getJson)}`);
  assert.deepEqual(getJson.json?.data, { __typename: 'Query' });
  // Every keyed response says what it cost and what the key has left (README, cost limits).
  assert.equal(getJson.json?.extensions?.cost?.requestedQueryCost, 1, `cost: ${show(getJson)}`);
  assert.equal(typeof getJson.json?.extensions?.cost?.throttleStatus?.currentlyAvailable, 'number', `cost: ${show(getJson)}`);
  step('  GET with Accept: application/json answers application/json, with its cost');

  const mutation = await call('GET', {
    params: { query: OPS.getMutation, variables: JSON.stringify({ name: segmentName }) },
    headers: { accept: 'application/graphql-response+json, application/json' },
  });
  assert.equal(mutation.status, 405, `GET mutation: ${show(mutation)}`);
  assert.match(mutation.headers.get('allow') ?? '', /POST/, `GET mutation: Allow header ${mutation.headers.get('allow')}`);
  const after = await send('getQuery', { search: segmentName });
  assert.equal(after.segments.totalCount, 0, 'a mutation sent with GET wrote nothing');
  step('  GET mutation: 405 with Allow: POST, nothing written');

  const unauthenticated = await fetch(`${url}?${new URLSearchParams({ query: '{ __typename }' })}`, { headers: { accept: 'application/json' } });
  assert.equal(unauthenticated.status, 401, 'GET query without a key');
  step('  GET query without a key: 401');

  const broken = JSON.stringify({ query: '{ viewer {' });
  const parse400 = await call('POST', { body: broken, headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' } });
  assert.equal(parse400.status, 400, `parse error, Accept: application/graphql-response+json: ${show(parse400)}`);
  assert.ok(parse400.json?.errors?.length, `parse error body: ${show(parse400)}`);
  assert.equal('data' in (parse400.json ?? {}), false, `a request error carries no data entry: ${show(parse400)}`);
  const parse200 = await call('POST', { body: broken, headers: { 'content-type': 'application/json', accept: 'application/json' } });
  assert.equal(parse200.status, 200, `parse error, Accept: application/json: ${show(parse200)}`);
  assert.ok(parse200.json?.errors?.length, `parse error body: ${show(parse200)}`);
  const invalid = JSON.stringify({ query: '{ viewer { nope } }' });
  const invalid400 = await call('POST', { body: invalid, headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' } });
  assert.equal(invalid400.status, 400, `validation error, Accept: application/graphql-response+json: ${show(invalid400)}`);
  const invalid200 = await call('POST', { body: invalid, headers: { 'content-type': 'application/json', accept: 'application/json' } });
  assert.equal(invalid200.status, 200, `validation error, Accept: application/json: ${show(invalid200)}`);
  step('  parse and validation errors: 400 for application/graphql-response+json, 200 for application/json');

  const plain = await call('POST', { body: JSON.stringify({ query: '{ __typename }' }), headers: { 'content-type': 'text/plain' } });
  assert.equal(plain.status, 415, `Content-Type: text/plain: ${show(plain)}`);
  step('  Content-Type: text/plain: 415');

  // GraphQL spec, "Serialized Map Ordering": a response should list fields in the order the
  // selection set asked for them. Reported, not failed: clients read fields by name.
  const order = ['segments', 'viewer', 'unassigned', 'campaigns'];
  const ordered = await call('POST', {
    body: JSON.stringify({ query: `{ ${order.map((f) => (f === 'viewer' ? 'viewer { workspace { id } }' : `${f}(first: 1) { totalCount }`)).join(' ')} }` }),
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
  });
  const got = Object.keys(ordered.json?.data ?? {});
  if (got.join() !== order.join()) step(`  note: root fields come back as ${got.join(', ')}, asked as ${order.join(', ')}`);
  else step('  root fields come back in the order asked');

  const html = await fetch(url, { headers: { accept: 'text/html' } });
  assert.equal(html.status, 200, 'GET with Accept: text/html serves GraphiQL');
  assert.match(html.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await html.text(), /graphiql/i);
  step('  GET with Accept: text/html: the GraphiQL page');
}

// ---------------------------------------------------------------------------------------------
// The workflow
// ---------------------------------------------------------------------------------------------
async function workflow(withSubscriptions) {
  const { viewer } = await send('viewer');
  assert.ok(viewer.workspace.id, 'viewer.workspace.id');
  step(`workspace "${viewer.workspace.name}" (${viewer.workspace.id}); run ${run}`);

  let ws = null;
  let all = null;
  if (withSubscriptions) {
    step(`subscribing to segmentMembershipChanged over graphql-ws at ${wsUrl}`);
    ws = openWs();
    const timeout = sleep(5000, null, { ref: false }).then(() => Promise.reject(new Error('no connection_ack within 5 s')));
    try {
      await Promise.race([ws.ready, timeout]);
      step('  connection acknowledged');
      all = listen(ws.client, {}, 'all segments');
    } catch (error) {
      fail(`subscriptions: cannot connect to ${wsUrl}: ${error.message}; running the HTTP workflow without them`);
      await Promise.resolve().then(() => ws.client.dispose()).catch(() => {});
      ws = null;
      withSubscriptions = false;
    }
  }
  try {
    const before = await readUnassigned();
    step(`Unassigned folder holds ${before.totalCount} influencer(s)`);

    step('creating 4 influencers');
    const specs = [
      { handle: `@ana_fit_${run}`, platform: 'INSTAGRAM', niche: 'fitness', followerCount: 52000 },
      { handle: `bo_games_${run}`, platform: 'TWITCH', niche: 'gaming', followerCount: 8100 },
      { handle: `cy_runs_${run}`, platform: 'TIKTOK', niche: 'running', followerCount: 120000 },
      { handle: `di_cooks_${run}`, platform: 'YOUTUBE', niche: 'food' },
    ];
    const people = [];
    for (const input of specs) {
      const { createInfluencer } = await send('createInfluencer', { input });
      noUserErrors(createInfluencer, `createInfluencer ${input.handle}`);
      const created = createInfluencer.influencer;
      assert.equal(created.handle, input.handle.replace(/^@/, ''), 'a leading @ is dropped');
      assert.equal(created.platform, input.platform);
      assert.equal(created.unassigned, true, 'a new influencer is Unassigned');
      assert.deepEqual(created.segments, []);
      people.push(created);
      step(`  ${created.handle} ${created.id}`);
    }
    const [ana, bo, cy, di] = people;
    const handleOf = new Map(people.map((p) => [p.id, p.handle]));

    const duplicate = (await send('createInfluencer', { input: { handle: ana.handle.toUpperCase(), platform: 'INSTAGRAM' } })).createInfluencer;
    assert.equal(duplicate.influencer, null, 'a duplicate handle creates nothing');
    assert.ok(duplicate.userErrors.length > 0, 'a duplicate handle is a user error');
    step(`  duplicate handle refused: ${duplicate.userErrors.map((e) => e.code).join(', ')}`);

    let unassigned = await readUnassigned();
    assert.equal(unassigned.totalCount, before.totalCount + 4, 'Unassigned grows by the 4 new influencers');
    for (const p of people) assert.ok(unassigned.ids.has(p.id), `${p.handle} is listed under Unassigned`);
    step(`Unassigned: ${unassigned.totalCount} (all 4 new influencers listed)`);

    step('creating segments');
    const segments = {};
    for (const [name, description] of [
      [`Fitness ${run}`, 'Gyms, running and sports nutrition'],
      [`Gaming ${run}`, null],
    ]) {
      const { createSegment } = await send('createSegment', { input: { name, description } });
      noUserErrors(createSegment, `createSegment ${name}`);
      assert.equal(createSegment.segment.name, name);
      assert.equal(createSegment.segment.memberCount, 0);
      segments[name.split(' ')[0].toLowerCase()] = createSegment.segment;
      step(`  ${name} ${createSegment.segment.id}`);
    }
    const { fitness, gaming } = segments;
    const segmentName = new Map([
      [fitness.id, fitness.name],
      [gaming.id, gaming.name],
    ]);
    const taken = (await send('createSegment', { input: { name: `  FITNESS ${run} ` } })).createSegment;
    assert.equal(taken.segment, null);
    assert.deepEqual(taken.userErrors.map((e) => e.code), ['NAME_TAKEN'], 'a name differing only in case is taken');
    step('  duplicate name (other case) refused: NAME_TAKEN');

    let fitnessOnly = null;
    if (withSubscriptions) {
      fitnessOnly = listen(ws.client, { segmentId: fitness.id }, 'Fitness only');
      // No acknowledgement exists for a subscribe message: give the server a moment to start
      // both streams before the first change.
      await sleep(500);
    }

    step(`assigning ${ana.handle} and ${bo.handle} to ${fitness.name}, ${cy.handle} to ${gaming.name}`);
    const toFitness = (await send('assign', { input: { influencerIds: [ana.id, bo.id], segment: { id: fitness.id } } })).assignToSegment;
    noUserErrors(toFitness, 'assignToSegment Fitness');
    assert.equal(toFitness.segment.id, fitness.id);
    assert.equal(toFitness.segment.memberCount, 2);
    assert.deepEqual(toFitness.influencers.map((i) => i.id), [ana.id, bo.id]);
    for (const i of toFitness.influencers) {
      assert.equal(i.unassigned, false);
      assert.deepEqual(i.segments.map((s) => s.id), [fitness.id]);
      assert.equal(i.memberships[0].source, 'MANUAL');
      assert.equal(i.memberships[0].automation, null);
    }
    const toGaming = (await send('assign', { input: { influencerIds: [cy.id], segment: { id: gaming.id } } })).assignToSegment;
    noUserErrors(toGaming, 'assignToSegment Gaming');
    assert.equal(toGaming.segment.memberCount, 1);

    const again = (await send('assign', { input: { influencerIds: [ana.id], segment: { id: fitness.id } } })).assignToSegment;
    noUserErrors(again, 'assignToSegment again');
    assert.equal(again.segment.memberCount, 2, 'assigning twice changes nothing');
    step('  assigning a member again changes nothing');

    unassigned = await readUnassigned();
    assert.equal(unassigned.totalCount, before.totalCount + 1, 'Unassigned shrinks by the 3 assigned influencers');
    for (const p of [ana, bo, cy]) assert.ok(!unassigned.ids.has(p.id), `Unassigned lists ${p.handle}, who is assigned`);
    assert.ok(unassigned.ids.has(di.id), `${di.handle} is still Unassigned`);
    step(`Unassigned: ${unassigned.totalCount} (shrank by 3; lists none of the assigned)`);

    const { segment: fitnessNow, node } = await send('segment', { id: fitness.id });
    assert.equal(fitnessNow.memberCount, 2);
    assert.equal(fitnessNow.influencers.totalCount, 2);
    assert.deepEqual(fitnessNow.influencers.nodes.map((n) => n.id), [ana.id, bo.id], 'members, oldest influencer first');
    assert.equal(node.name, fitness.name, 'node(id) resolves the segment');
    step(`${fitness.name} lists ${fitnessNow.influencers.nodes.map((n) => n.handle).join(', ')}`);

    step(`removing ${bo.handle} from ${fitness.name}`);
    const removed = (await send('remove', { input: { influencerIds: [bo.id], segmentId: fitness.id } })).removeFromSegment;
    noUserErrors(removed, 'removeFromSegment');
    assert.equal(removed.segment.memberCount, 1);
    assert.equal(removed.influencers[0].unassigned, true, 'an influencer in no segment is Unassigned again');
    unassigned = await readUnassigned();
    assert.equal(unassigned.totalCount, before.totalCount + 2);
    assert.ok(unassigned.ids.has(bo.id), `${bo.handle} is listed under Unassigned again`);
    for (const p of [ana, cy]) assert.ok(!unassigned.ids.has(p.id), `Unassigned lists ${p.handle}, who is assigned`);
    step(`Unassigned: ${unassigned.totalCount} (${bo.handle} is back)`);

    step(`creating a campaign aimed at ${fitness.name}`);
    const { createCampaign } = await send('createCampaign', { input: { name: `Spring launch ${run}`, audienceSegmentIds: [fitness.id] } });
    noUserErrors(createCampaign, 'createCampaign');
    const campaign = createCampaign.campaign;
    assert.equal(campaign.status, 'DRAFT');
    assert.deepEqual(campaign.audience.map((s) => s.id), [fitness.id]);
    assert.deepEqual(campaign.recipients.nodes.map((n) => n.id), [ana.id], 'recipients are the audience members');
    step(`  ${campaign.name} ${campaign.id}, recipients: ${ana.handle}`);

    step('adding an automation: EMAIL_REPLIED assigns to a segment created inline');
    const repliedName = `Replied ${run}`;
    const { addAutomation } = await send('addAutomation', {
      input: { campaignId: campaign.id, trigger: 'EMAIL_REPLIED', assignToSegment: { create: { name: repliedName, description: 'Answered the outreach' } } },
    });
    noUserErrors(addAutomation, 'addAutomation');
    const automation = addAutomation.automation;
    assert.equal(automation.enabled, true);
    assert.equal(automation.trigger, 'EMAIL_REPLIED');
    assert.equal(automation.action, 'ASSIGN_TO_SEGMENT');
    assert.equal(automation.campaign.id, campaign.id);
    assert.equal(automation.segment.name, repliedName, 'the target segment was created inline');
    assert.equal(automation.segment.memberCount, 0);
    const replied = automation.segment;
    segmentName.set(replied.id, replied.name);
    step(`  automation ${automation.id} -> ${replied.name} ${replied.id}`);

    let repliedOnly = null;
    if (withSubscriptions) {
      repliedOnly = listen(ws.client, { segmentId: replied.id }, 'Replied only');
      await sleep(500);
    }

    step(`recording EMAIL_REPLIED by ${di.handle} (Unassigned, not in the audience)`);
    const externalId = `msg-${run}`;
    const engagement = { campaignId: campaign.id, influencerId: di.id, kind: 'EMAIL_REPLIED', externalId };
    const recorded = (await send('recordEngagement', { input: engagement })).recordEngagement;
    noUserErrors(recorded, 'recordEngagement');
    assert.equal(recorded.duplicate, false);
    assert.equal(recorded.event.externalId, externalId);
    assert.equal(recorded.event.influencer.id, di.id);
    assert.deepEqual(recorded.assignedSegments.map((s) => s.id), [replied.id], 'the automation assigned the influencer');
    const repeat = (await send('recordEngagement', { input: engagement })).recordEngagement;
    noUserErrors(repeat, 'recordEngagement repeat');
    assert.equal(repeat.duplicate, true, 'a repeated externalId is a duplicate');
    assert.equal(repeat.event.id, recorded.event.id, 'a duplicate returns the first event');
    step('  assigned by the automation; the repeated webhook was a duplicate');

    const { influencer: diNow } = await send('influencer', { id: di.id });
    assert.equal(diNow.unassigned, false);
    assert.equal(diNow.memberships.length, 1);
    assert.equal(diNow.memberships[0].source, 'AUTOMATION');
    assert.equal(diNow.memberships[0].automation.id, automation.id);
    assert.equal(diNow.memberships[0].segment.id, replied.id);
    unassigned = await readUnassigned();
    assert.ok(!unassigned.ids.has(di.id), `Unassigned lists ${di.handle}, whom the automation assigned`);
    assert.equal(unassigned.totalCount, before.totalCount + 1);
    step(`Unassigned: ${unassigned.totalCount} (${di.handle} left it through the automation)`);

    if (withSubscriptions) {
      step('checking the live segmentMembershipChanged events');
      const ours = (events) => events.filter((e) => handleOf.has(e.influencerId));
      const expected = [
        { change: 'ADDED', influencer: ana.id, segment: fitness.id, source: 'MANUAL', automation: null },
        { change: 'ADDED', influencer: bo.id, segment: fitness.id, source: 'MANUAL', automation: null },
        { change: 'ADDED', influencer: cy.id, segment: gaming.id, source: 'MANUAL', automation: null },
        { change: 'REMOVED', influencer: bo.id, segment: fitness.id, source: 'MANUAL' },
        { change: 'ADDED', influencer: di.id, segment: replied.id, source: 'AUTOMATION', automation: automation.id },
      ];
      await waitFor(
        all,
        (events) => expected.every((want) => ours(events).some((e) => matches(e, want))),
        'the 3 manual assignments, the removal and the automation\'s assignment',
      );
      await waitFor(repliedOnly, (events) => events.length >= 1, 'the automation\'s assignment');
      await waitFor(fitnessOnly, (events) => events.length >= 3, 'the 2 assignments to and 1 removal from Fitness');
      await sleep(500); // anything extra (a duplicate, a repeat) would arrive by now
      const mine = ours(all.events);
      assert.equal(mine.length, expected.length, `exactly one event per change, none for the no-op re-assignment or the duplicate webhook; got ${JSON.stringify(mine)}`);
      for (const event of mine) {
        assert.equal(event.influencer?.handle, handleOf.get(event.influencerId), 'event.influencer resolves');
        assert.equal(event.segment?.name, segmentName.get(event.segmentId), 'event.segment resolves');
        assert.ok(!Number.isNaN(Date.parse(event.at)), `event.at is a DateTime: ${event.at}`);
      }
      const auto = mine.find((e) => e.source === 'AUTOMATION');
      assert.equal(auto.automation?.id, automation.id, 'the automation\'s event names the automation');
      const manual = mine.find((e) => e.change === 'ADDED' && e.source === 'MANUAL');
      assert.equal(manual.automation, null, 'a manual event has no automation');
      // Filtered streams see their segment only.
      assert.ok(fitnessOnly.events.every((e) => e.segmentId === fitness.id), 'segmentId filter: only Fitness events');
      assert.equal(fitnessOnly.events.length, 3, `Fitness only: ${JSON.stringify(fitnessOnly.events)}`);
      assert.ok(repliedOnly.events.every((e) => e.segmentId === replied.id), 'segmentId filter: only Replied events');
      assert.equal(repliedOnly.events.length, 1);
      assert.ok(matches(repliedOnly.events[0], expected[4]));
      step(`  received ${mine.length} events: manual ADDED x3, REMOVED, AUTOMATION ADDED (with the automation); filters by segmentId hold`);
    }
  } finally {
    if (ws) {
      for (const stream of [all].filter(Boolean)) stream.unsubscribe?.();
      await Promise.resolve().then(() => ws.client.dispose()).catch(() => {});
    }
  }
}

async function main() {
  const schema = await loadSchema();
  const invalid = validateAll(schema);
  const subscriptionsUsable = !invalid.includes('membershipChanged');
  const httpUsable = invalid.every((name) => ['membershipChanged', 'apq', 'getQuery', 'getMutation'].includes(name));
  if (!httpUsable) {
    fail('operations invalid against the served schema; nothing sent');
    return;
  }
  if (!subscriptionsUsable) step('subscription document invalid (failure recorded): running the HTTP workflow without subscriptions');
  try {
    await workflow(subscriptionsUsable);
    step('workflow passed');
  } catch (error) {
    fail('workflow', error);
  }
  if (subscriptionsUsable) {
    try {
      await wsAuth();
      step('WebSocket authentication passed');
    } catch (error) {
      fail('WebSocket authentication', error);
    }
  }
  if (documents.getQuery && documents.getMutation) {
    try {
      await httpContract();
      step('GraphQL over HTTP passed');
    } catch (error) {
      fail('GraphQL over HTTP', error);
    }
  }
  if (documents.apq) {
    try {
      await apq();
      step('APQ passed');
    } catch (error) {
      fail('APQ', error);
    }
  }
}

try {
  await main();
} catch (error) {
  fail('client', error);
}
console.log(failures === 0 ? 'client: passed' : `client: FAILED (${failures} failure(s))`);
process.exit(failures === 0 ? 0 : 1);
