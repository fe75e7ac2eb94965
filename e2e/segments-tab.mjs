#!/usr/bin/env node
// The example SPA (examples/segments-tab: Vite, React, Apollo Client) in headless Chromium,
// against a running server: the page is the production build, served from its own origin as a
// front end would be; the key is typed into its form. It creates a segment inline while assigning
// two influencers and sees the count; then this script, a second client, assigns a third over
// HTTP, and the open page shows the new count and the influencer's new segment by itself (the
// subscription's event, merged into Apollo's normalized cache: the page asks nothing again).
//
//   node e2e/segments-tab.mjs http://127.0.0.1:8000/graphql sk_... examples/segments-tab/dist
//
// Uses Debian's /usr/bin/chromium (CHROMIUM to override); downloads nothing.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';

import { makeGql } from './gql.mjs';

const [url, key, dist] = process.argv.slice(2);
if (!url || !key || !dist) {
  console.error('usage: node segments-tab.mjs URL KEY DIST   (URL of /graphql, KEY an API key, DIST the built app)');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const run = randomBytes(4).toString('hex');

function step(message) {
  console.log(`segments-tab: ${message}`);
}

const gql = makeGql(url, key);

/** Serves the built app on a loopback port (its own origin, as a CDN would); returns its URL. */
async function serveApp() {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
  const server = createServer(async (request, response) => {
    const path = normalize(new URL(request.url, 'http://x').pathname).replace(/^(\.\.[/\\])+/, '');
    const file = join(dist, path === '/' ? 'index.html' : path);
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

async function main() {
  const created = [];
  for (const n of [1, 2, 3]) {
    const data = await gql(
      'mutation ($handle: String!) { createInfluencer(input: { handle: $handle, platform: TIKTOK }) { influencer { id handle } userErrors { message } } }',
      { handle: `tab_${run}_${n}` },
    );
    if (data.createInfluencer.userErrors.length) throw new Error(JSON.stringify(data));
    created.push(data.createInfluencer.influencer);
  }
  step(`set up ${created.map((i) => i.handle).join(', ')} over HTTP`);

  const { server, origin } = await serveApp();
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
  const problems = [];
  const requests = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('request', (request) => {
      if (request.url().startsWith(url)) requests.push(request.postData() ?? '');
    });

    await page.goto(`${origin}/?api=${encodeURIComponent(url)}`, { waitUntil: 'load' });
    await page.fill('input[name="key"]', key);
    await page.click('button[type="submit"]');
    step(`opened the app at ${origin} and typed the key`);

    await page.fill('input[name="search"]', `tab_${run}`);
    for (const influencer of created) {
      await page.waitForSelector(`tr[data-handle="${influencer.handle}"]`, { timeout: 15000 });
    }
    step('the roster, searched, lists the three influencers');
    const unassignedCount = async () => Number(await page.textContent('[data-count="unassigned"]'));
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('[data-count="unassigned"]')?.textContent ?? ''));
    const unassignedBefore = await unassignedCount();

    // Two selected, assigned to a segment made on the spot.
    const segmentName = `Tab ${run}`;
    await page.check(`tr[data-handle="${created[0].handle}"] input[type="checkbox"]`);
    await page.check(`tr[data-handle="${created[1].handle}"] input[type="checkbox"]`);
    await page.selectOption('select[name="target"]', 'new');
    await page.fill('input[name="segment-name"]', segmentName);
    await page.click('form[aria-label="assign"] button[type="submit"]');
    const count = `[data-count="${segmentName}"]`;
    await page.waitForFunction((selector) => document.querySelector(selector)?.textContent === '2', count, { timeout: 15000 });
    await page.waitForFunction(
      ([handle, name]) => document.querySelector(`tr[data-handle="${handle}"] .chips`)?.textContent.includes(name),
      [created[0].handle, segmentName],
      { timeout: 15000 },
    );
    step(`assigned two to the new segment "${segmentName}": the folder shows 2 and their rows show it`);

    // The segment's folder lists its two members.
    await page.click(`nav button[data-segment="${segmentName}"]`);
    for (const influencer of created.slice(0, 2)) {
      await page.waitForSelector(`tr[data-handle="${influencer.handle}"]`, { timeout: 15000 });
    }
    step('its folder lists the two');

    // The subscription is open (the page started it on load); wait until the server has it, then
    // a second client assigns the third influencer.
    const { segments } = await gql('query ($s: String!) { segments(search: $s) { nodes { id } } }', { s: segmentName });
    const segmentId = segments.nodes[0].id;
    await page.waitForLoadState('networkidle');
    const before = requests.length;
    let updated = false;
    for (let attempt = 1; attempt <= 3 && !updated; attempt += 1) {
      if (attempt > 1) {
        await gql('mutation ($i: ID!, $s: ID!) { removeFromSegment(input: { influencerIds: [$i], segmentId: $s }) { userErrors { message } } }', {
          i: created[2].id,
          s: segmentId,
        });
      } else {
        await page.waitForTimeout(500);
      }
      const assigned = await gql(
        'mutation ($i: ID!, $s: ID!) { assignToSegment(input: { influencerIds: [$i], segment: { id: $s } }) { segment { memberCount } userErrors { message } } }',
        { i: created[2].id, s: segmentId },
      );
      if (assigned.assignToSegment.userErrors.length) throw new Error(JSON.stringify(assigned));
      step(`a second client assigned ${created[2].handle} over HTTP (attempt ${attempt})`);
      try {
        await page.waitForFunction((selector) => document.querySelector(selector)?.textContent === '3', count, { timeout: 5000 });
        updated = true;
      } catch {
        // The subscription may not have been registered yet; assign again.
      }
    }
    if (!updated) throw new Error(`the page never showed 3 members: ${await page.textContent(count)}`);
    // The open folder gained the third member's row, with the segment on it.
    await page.waitForFunction(
      ([handle, name]) => document.querySelector(`tr[data-handle="${handle}"] .chips`)?.textContent.includes(name),
      [created[2].handle, segmentName],
      { timeout: 10000 },
    );
    const asked = requests.slice(before).filter((body) => body.includes('"query"') || body.includes('persistedQuery'));
    if (asked.length) problems.push(`the page asked the server again instead of using the event: ${asked.join(' | ').slice(0, 300)}`);
    step('the open page shows 3 members and the third influencer in the folder, from the live update alone');
    // The Unassigned folder followed the events too: the three left it.
    await page.waitForFunction(
      ([expected]) => document.querySelector('[data-count="unassigned"]')?.textContent === String(expected),
      [unassignedBefore - 3],
      { timeout: 10000 },
    ).catch(async () => {
      throw new Error(`Unassigned shows ${await unassignedCount()}, expected ${unassignedBefore - 3}`);
    });
    step(`the Unassigned folder went from ${unassignedBefore} to ${unassignedBefore - 3} with them`);

    // Persisted queries: the app sent hashes (Apollo's link), not only texts.
    if (!requests.some((body) => body.includes('persistedQuery'))) problems.push('no persisted-query hash was sent');
    else step('queries went as persisted-query hashes');

    if (problems.length) throw new Error(problems.join('\n'));
  } finally {
    await browser.close();
    server.close();
  }
}

main().then(
  () => step('passed'),
  (error) => {
    console.error(`segments-tab: FAILED: ${error.stack ?? error}`);
    process.exit(1);
  },
);
