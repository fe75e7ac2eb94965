#!/usr/bin/env node
// GraphiQL in headless Chromium: loads the page the server serves at GET /graphql, runs a query
// from the editor, then a subscription whose event is set off by a separate HTTP mutation.
//
//   node e2e/graphiql.mjs http://127.0.0.1:8000/graphql sk_...
//
// The page loads its scripts and styles from the server itself (the binary embeds them): the
// browser runs with the network off, and any request to another host fails the test.
// The page must be served by a server bound to loopback, so it carries its own in-memory key;
// KEY is used only by this script's own HTTP calls (data set-up and the mutation that makes the
// subscription event). Uses Debian's /usr/bin/chromium (CHROMIUM to override); downloads nothing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';

import { makeGql } from './gql.mjs';

const [url, key] = process.argv.slice(2);
if (!url || !key) {
  console.error('usage: node graphiql.mjs URL KEY   (URL of /graphql on a loopback address, KEY an API key)');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const run = randomBytes(4).toString('hex');
const shots = mkdtempSync(join(tmpdir(), 'graphiql-e2e-'));
const problems = [];

function step(message) {
  console.log(`graphiql: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// The network, off
// ---------------------------------------------------------------------------------------------
/** Lets the page reach the server under test and nothing else. */
async function networkOff(context) {
  const origin = new URL(url).origin;
  const wsOrigin = origin.replace(/^http/, 'ws');
  await context.route(
    (u) => !u.href.startsWith(origin) && !u.href.startsWith(wsOrigin) && u.protocol !== 'data:',
    (route) => {
      problems.push(`request off the server: ${route.request().url()}`);
      return route.abort('internetdisconnected');
    },
  );
}

// ---------------------------------------------------------------------------------------------
// The script's own HTTP calls
// ---------------------------------------------------------------------------------------------
const gql = makeGql(url, key);

async function setUpData() {
  const data = await gql(
    `mutation ($handle: String!, $segment: String!) {
      createInfluencer(input: { handle: $handle, platform: INSTAGRAM }) { influencer { id handle } userErrors { message } }
      createSegment(input: { name: $segment }) { segment { id name } userErrors { message } }
    }`,
    { handle: `graphiql_${run}`, segment: `GraphiQL ${run}` },
  );
  if (data.createInfluencer.userErrors.length || data.createSegment.userErrors.length) {
    throw new Error(`set-up refused: ${JSON.stringify(data)}`);
  }
  return { influencer: data.createInfluencer.influencer, segment: data.createSegment.segment };
}

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------
async function setQuery(page, text) {
  await page.evaluate((query) => {
    const editor = document.querySelector('.graphiql-query-editor .CodeMirror');
    if (!editor?.CodeMirror) throw new Error('no CodeMirror query editor on the page');
    editor.CodeMirror.setValue(query);
    editor.CodeMirror.focus();
  }, text);
  // GraphiQL parses the editor's text (to tell a subscription from a query) after a short
  // debounce; run before that and it would use the previous document.
  await page.waitForTimeout(800);
}

async function resultText(page) {
  return page.evaluate(() => {
    const pane = document.querySelector('.result-window .CodeMirror') ?? document.querySelector('.graphiql-response .CodeMirror');
    if (pane?.CodeMirror) return pane.CodeMirror.getValue();
    return document.querySelector('.result-window, .graphiql-response')?.textContent ?? '';
  });
}

async function waitForResult(page, predicate, what, ms = 10000) {
  const deadline = Date.now() + ms;
  let text = '';
  while (Date.now() < deadline) {
    text = await resultText(page);
    if (predicate(text)) return text;
    await page.waitForTimeout(200);
  }
  throw new Error(`result pane never showed ${what}; it shows: ${text.slice(0, 500) || '(nothing)'}`);
}

async function main() {
  const { influencer, segment } = await setUpData();
  step(`set up ${influencer.handle} and segment "${segment.name}" over HTTP`);

  const browser = await chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const consoleErrors = [];
  let page;
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await networkOff(context);
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
    page.on('requestfailed', (request) => {
      if (!request.url().startsWith('ws')) consoleErrors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
    });

    step(`opening ${url}`);
    const response = await page.goto(url, { waitUntil: 'load' });
    if (response.status() !== 200) throw new Error(`GET ${url}: HTTP ${response.status()}`);
    const html = await response.text();
    if (!/Authorization/.test(html)) {
      problems.push('the page carries no in-memory Authorization header (is the server bound to loopback?)');
    }
    await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror', { timeout: 20000 });
    await page.waitForLoadState('networkidle');
    step(`GraphiQL rendered (${await page.title()})`);

    // The Explorer plugin (embedded like the rest): its sidebar button opens it on the schema.
    await page.getByRole('button', { name: /GraphiQL Explorer/ }).click();
    await page.waitForSelector('.graphiql-explorer-root', { timeout: 20000 });
    await page.waitForFunction(
      () => document.querySelector('.graphiql-explorer-root')?.textContent.includes('segments'),
      null,
      { timeout: 20000 },
    );
    step('the Explorer lists the schema\'s fields');
    await page.getByRole('button', { name: /GraphiQL Explorer/ }).click();

    // A query, typed into the editor and run with the run button.
    const query = `{ segments(search: "${segment.name}") { totalCount nodes { name memberCount } } viewer { workspace { name } } }`;
    await setQuery(page, query);
    await page.click('.graphiql-execute-button');
    const result = await waitForResult(page, (text) => text.includes('"data"'), 'a result');
    const parsed = JSON.parse(result);
    if (parsed.errors) throw new Error(`the query failed in GraphiQL: ${result}`);
    if (parsed.data.segments.totalCount !== 1 || parsed.data.segments.nodes[0].name !== segment.name) {
      throw new Error(`unexpected query result: ${result}`);
    }
    step(`query ran from the editor; result pane: segment "${parsed.data.segments.nodes[0].name}", workspace "${parsed.data.viewer.workspace.name}"`);
    const queryShot = join(shots, 'graphiql-query.png');
    await page.screenshot({ path: queryShot });

    // A subscription from the page; the event is set off by a mutation over HTTP.
    const subscription = 'subscription { segmentMembershipChanged { change influencer { handle } } }';
    await setQuery(page, subscription);
    await page.click('.graphiql-execute-button');
    step('subscription started from the editor');
    await page.waitForTimeout(1000);
    const early = await resultText(page);
    if (/"errors"/.test(early)) throw new Error(`the subscription failed in GraphiQL: ${early.slice(0, 500)}`);
    let seen = null;
    for (let attempt = 1; attempt <= 3 && !seen; attempt += 1) {
      if (attempt > 1) {
        await gql(`mutation ($i: ID!, $s: ID!) { removeFromSegment(input: { influencerIds: [$i], segmentId: $s }) { userErrors { message } } }`, {
          i: influencer.id,
          s: segment.id,
        });
      }
      const assigned = await gql(
        `mutation ($i: ID!, $s: ID!) { assignToSegment(input: { influencerIds: [$i], segment: { id: $s } }) { segment { memberCount } userErrors { message } } }`,
        { i: influencer.id, s: segment.id },
      );
      if (assigned.assignToSegment.userErrors.length) throw new Error(`assignToSegment: ${JSON.stringify(assigned)}`);
      step(`assigned ${influencer.handle} to "${segment.name}" over HTTP (attempt ${attempt})`);
      try {
        seen = await waitForResult(page, (text) => text.includes(influencer.handle), `the event for ${influencer.handle}`, 5000);
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
    const event = JSON.parse(seen);
    if (!event.data?.segmentMembershipChanged?.change) throw new Error(`unexpected event: ${seen}`);
    step(`event in the result pane: ${event.data.segmentMembershipChanged.change} ${event.data.segmentMembershipChanged.influencer.handle}`);
    const eventShot = join(shots, 'graphiql-subscription.png');
    await page.screenshot({ path: eventShot });
    step(`screenshots: ${queryShot} ${eventShot}`);
  } catch (error) {
    if (page) {
      const failShot = join(shots, 'graphiql-failure.png');
      await page.screenshot({ path: failShot }).catch(() => {});
      step(`screenshot of the failure: ${failShot}`);
    }
    throw error;
  } finally {
    await browser.close();
  }
  for (const message of consoleErrors) {
    // React's development build reports its own diagnostics (e.g. a missing `key` inside
    // GraphiQL's bundle) through console.error as "Warning: ...": GraphiQL's, not the page's.
    if (/^Warning: /.test(message)) console.log(`graphiql: note: React development warning: ${message.split('\n')[0]}`);
    else problems.push(`console: ${message}`);
  }
}

let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  console.log(`graphiql: FAILED ${error.message}`);
}
for (const problem of problems) console.log(`graphiql: FAILED ${problem}`);
failed ||= problems.length > 0;
console.log(failed ? 'graphiql: FAILED' : 'graphiql: passed');
process.exit(failed ? 1 : 0);
