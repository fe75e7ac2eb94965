// Tests of the breaking-change checker itself: node --test e2e/breaking.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSchemas, parseAllowList, describe } from './breaking.mjs';

const OLD = `
  type Query { segment(id: ID!): Segment segments: [Segment!]! segmentCount: Int! }
  type Segment { id: ID! name: String! memberCount: Int! }
`;

test('a removed field is a breaking change and fails', () => {
  const result = checkSchemas(OLD, OLD.replace(' memberCount: Int!', ''));
  assert.equal(result.ok, false);
  assert.equal(result.rejected.length, 1);
  assert.equal(result.rejected[0].type, 'FIELD_REMOVED');
  assert.equal(result.rejected[0].description, 'Segment.memberCount was removed.');
});

test('an added field is not breaking and passes', () => {
  const result = checkSchemas(OLD, OLD.replace('memberCount: Int!', 'memberCount: Int! description: String'));
  assert.equal(result.ok, true);
  assert.deepEqual(result.changes, []);
});

test('an identical schema passes', () => {
  assert.equal(checkSchemas(OLD, OLD).ok, true);
});

test('a removal listed in the allow-list passes', () => {
  const allow = parseAllowList(`# deliberate\n\nFIELD_REMOVED: Segment.memberCount was removed.\n`);
  const result = checkSchemas(OLD, OLD.replace(' memberCount: Int!', ''), allow);
  assert.equal(result.ok, true);
  assert.equal(result.accepted.length, 1);
  assert.equal(describe(result.accepted[0]), 'FIELD_REMOVED: Segment.memberCount was removed.');
});

test('the description alone also allows a change', () => {
  const result = checkSchemas(OLD, OLD.replace(' memberCount: Int!', ''), ['Segment.memberCount was removed.']);
  assert.equal(result.ok, true);
});

test('an allow-list entry does not cover other breaking changes', () => {
  const changed = OLD.replace(' memberCount: Int!', '').replace('name: String!', 'name: String');
  const result = checkSchemas(OLD, changed, ['Segment.memberCount was removed.']);
  assert.equal(result.ok, false);
  assert.equal(result.rejected.length, 1);
  assert.equal(result.rejected[0].type, 'FIELD_CHANGED_KIND');
});

test('comment lines in the allow-list are ignored', () => {
  assert.deepEqual(parseAllowList('# FIELD_REMOVED: Segment.memberCount was removed.\n  \n'), []);
  const result = checkSchemas(OLD, OLD.replace(' memberCount: Int!', ''), parseAllowList('# Segment.memberCount was removed.'));
  assert.equal(result.ok, false);
});

test('a new required argument is breaking', () => {
  const result = checkSchemas(OLD, OLD.replace('segments: [Segment!]!', 'segments(first: Int!): [Segment!]!'));
  assert.equal(result.ok, false);
  assert.equal(result.rejected[0].type, 'REQUIRED_ARG_ADDED');
});
