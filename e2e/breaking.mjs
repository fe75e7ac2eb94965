#!/usr/bin/env node
// Schema evolution check: compares the working tree's schema.graphql with the schema of a base
// commit and fails on every breaking change (graphql-js findBreakingChanges) that is not listed
// in deliberate-breaking-changes.txt.
//
// Base: `git merge-base HEAD origin/main` when that ref exists and differs from HEAD, else
// HEAD~1, so every commit on main is checked against its parent. No base (first commit, shallow
// clone, no schema there): passes with a message.
//
//   node e2e/breaking.mjs            # from anywhere inside the repository
//   node e2e/breaking.mjs --base REF # compare with REF instead
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, findBreakingChanges } from 'graphql';

const here = dirname(fileURLToPath(import.meta.url));

/** Parses an allow-list file's text: one description a line, `#` comments and blanks skipped. */
export function parseAllowList(text) {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** How one breaking change is printed, and how it may be written in the allow-list. */
export function describe(change) {
  return `${change.type}: ${change.description}`;
}

/**
 * The core: the breaking changes from `oldSdl` to `newSdl`, split into those the allow-list
 * names (by description, with or without the `TYPE: ` prefix) and those it does not.
 * `ok` is true when no change is left unallowed.
 */
export function checkSchemas(oldSdl, newSdl, allowList = []) {
  const allowed = new Set(allowList.map((line) => line.trim()));
  const changes = findBreakingChanges(buildSchema(oldSdl), buildSchema(newSdl));
  const accepted = [];
  const rejected = [];
  for (const change of changes) {
    const isAllowed = allowed.has(change.description) || allowed.has(describe(change));
    (isAllowed ? accepted : rejected).push(change);
  }
  return { ok: rejected.length === 0, changes, accepted, rejected };
}

function git(args, cwd) {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** The base commit to compare with, and why; null when there is none. */
export function findBase(repo) {
  const head = git(['rev-parse', 'HEAD'], repo);
  if (!head) return null;
  if (git(['rev-parse', '--verify', '--quiet', 'origin/main^{commit}'], repo)) {
    const mergeBase = git(['merge-base', 'HEAD', 'origin/main'], repo);
    if (mergeBase && mergeBase !== head) return { commit: mergeBase, why: 'merge-base of HEAD and origin/main' };
  }
  const parent = git(['rev-parse', '--verify', '--quiet', 'HEAD~1^{commit}'], repo);
  if (parent) return { commit: parent, why: 'HEAD~1' };
  return null;
}

function main(argv) {
  const repo = git(['rev-parse', '--show-toplevel'], here) ?? resolve(here, '..');
  const schemaPath = join(repo, 'schema.graphql');
  const allowPath = join(here, 'deliberate-breaking-changes.txt');
  const schemaRel = relative(repo, schemaPath);

  const baseFlag = argv.indexOf('--base');
  let base;
  if (baseFlag >= 0) {
    const ref = argv[baseFlag + 1];
    const commit = ref && git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], repo);
    if (!commit) {
      console.error(`breaking: --base ${ref ?? ''} names no commit`);
      return 2;
    }
    base = { commit, why: ref };
  } else {
    base = findBase(repo);
  }
  if (!base) {
    console.log('breaking: no base commit to compare with (first commit or shallow clone); passed');
    return 0;
  }
  const oldSdl = git(['show', `${base.commit}:${schemaRel}`], repo);
  if (oldSdl === null) {
    console.log(`breaking: ${schemaRel} does not exist at ${base.commit.slice(0, 10)} (${base.why}); passed`);
    return 0;
  }
  if (!existsSync(schemaPath)) {
    console.error(`breaking: ${schemaPath} is missing`);
    return 1;
  }
  const newSdl = readFileSync(schemaPath, 'utf8');
  const allowList = existsSync(allowPath) ? parseAllowList(readFileSync(allowPath, 'utf8')) : [];

  let result;
  try {
    result = checkSchemas(oldSdl, newSdl, allowList);
  } catch (error) {
    console.error(`breaking: cannot build a schema from ${schemaRel} (working tree or ${base.commit.slice(0, 10)}): ${error.message}`);
    return 1;
  }
  console.log(
    `breaking: ${schemaRel} against ${base.commit.slice(0, 10)} (${base.why}): ` +
      `${result.changes.length} breaking change(s), ${result.accepted.length} deliberate`,
  );
  for (const change of result.accepted) console.log(`  deliberate  ${describe(change)}`);
  for (const change of result.rejected) console.log(`  BREAKING    ${describe(change)}`);
  if (!result.ok) {
    console.log(
      `breaking: ${result.rejected.length} breaking change(s) not listed in ${relative(repo, allowPath)}; ` +
        'restore them, or list each description there if the break is deliberate',
    );
    return 1;
  }
  console.log('breaking: passed');
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
