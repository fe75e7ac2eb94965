#!/usr/bin/env node
// GraphQL-over-HTTP conformance: runs graphql-http's public audit suite against the server.
//
//   node e2e/audit.mjs http://127.0.0.1:8000/graphql sk_...
//
// Prints every audit (ok / notice / warn / error) and a tally. Exits 1 when a MUST audit fails
// (error) or a SHOULD audit warns (warn); MAY audits (notice) are printed only.
import { auditServer } from 'graphql-http';

const [url, key] = process.argv.slice(2);
if (!url || !key) {
  console.error('usage: node audit.mjs URL KEY   (URL of the /graphql endpoint, KEY an API key)');
  process.exit(2);
}

/** fetch with the API key on every request the audits make. */
function authorizedFetch(input, init = {}) {
  const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${key}`);
  return fetch(input, { ...init, headers });
}

async function describeResponse(response) {
  if (!response) return '';
  let body = '';
  try {
    body = await response.clone().text();
  } catch {
    body = '(body already read)';
  }
  body = body.replace(/\s+/g, ' ');
  if (body.length > 300) body = `${body.slice(0, 300)}...`;
  const type = response.headers.get('content-type') ?? '-';
  return `HTTP ${response.status} content-type: ${type} body: ${body}`;
}

const results = await auditServer({ url, fetchFn: authorizedFetch });
const tally = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) {
  tally[result.status] = (tally[result.status] ?? 0) + 1;
  const label = result.status.toUpperCase().padEnd(6);
  console.log(`${label} ${result.id} ${result.name}`);
  if (result.status !== 'ok') {
    console.log(`         reason: ${result.reason}`);
    const detail = await describeResponse(result.response);
    if (detail) console.log(`         ${detail}`);
  }
}
const failed = tally.error + tally.warn;
console.log(
  `audit: ${results.length} audits: ${tally.ok} ok, ${tally.notice} notice (MAY), ` +
    `${tally.warn} warn (SHOULD), ${tally.error} error (MUST)`,
);
console.log(failed === 0 ? 'audit: passed' : `audit: FAILED (${failed} MUST/SHOULD audits)`);
process.exit(failed === 0 ? 0 : 1);
