import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseSince } from './time-window.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');

test('--since: durations back from now, ISO dates and date-times (UTC unless a zone is given), now', () => {
  assert.equal(parseSince('7d', NOW), NOW - 7 * 86_400_000);
  assert.equal(parseSince(' 90s ', NOW), NOW - 90_000);
  assert.equal(parseSince('2w', NOW), NOW - 14 * 86_400_000);
  assert.equal(parseSince('1.5h', NOW), NOW - 5_400_000);
  assert.equal(parseSince('2026-12-01', NOW), Date.parse('2026-12-01T00:00:00Z'));
  assert.equal(parseSince('2026-12-01T08:00', NOW), Date.parse('2026-12-01T08:00:00Z'));
  assert.equal(parseSince('2026-12-01 08:00:30', NOW), Date.parse('2026-12-01T08:00:30Z'));
  assert.equal(parseSince('2026-12-01T08:00:00+05:30', NOW), Date.parse('2026-12-01T02:30:00Z'));
  assert.equal(parseSince('2026-12-01T08:00:00.250Z', NOW), Date.parse('2026-12-01T08:00:00.250Z'));
  assert.equal(parseSince('now', NOW, '--until'), NOW);
  assert.equal(parseDuration('5m', 'x'), 300_000);
});

test('--since: a bad or future value is a usage error naming the flag and the accepted forms', () => {
  for (const bad of ['yesterday', '7', '7 days', '-3d', '0d', '2026-13-01', '2026-12-01T25:00', '2026-12-01X'])
    assert.throws(
      () => parseSince(bad, NOW, '--since'),
      (e: Error & { code?: string }) =>
        e.code === 'USAGE' && /^--since must be a duration/.test(e.message) && e.message.includes(bad),
      bad,
    );
  assert.throws(() => parseSince('2027-01-01', NOW, '--until'), /--until 2027-01-01 is in the future/);
});

test('--since: a calendar date that does not exist, or a duration past a century, is refused naming the flag (they used to roll over to March, or crash the report)', () => {
  for (const bad of ['2026-02-30', '2026-02-29', '2026-04-31', '2026-00-10', '2026-12-00'])
    assert.throws(
      () => parseSince(bad, NOW, '--since'),
      (e: Error & { code?: string }) => e.code === 'USAGE' && /^--since must be a duration/.test(e.message),
      bad,
    );
  assert.equal(parseSince('2024-02-29', NOW), Date.parse('2024-02-29T00:00:00Z'));
  for (const bad of ['99999999999999999999d', '2000000000d', '5300w', '36525.1d'])
    assert.throws(
      () => parseSince(bad, NOW, '--since'),
      (e: Error & { code?: string }) =>
        e.code === 'USAGE' &&
        e.message === `--since ${bad} is longer than 100 years; give a shorter duration, or a date like 2020-01-01`,
      bad,
    );
  assert.equal(parseSince('36524d', NOW), NOW - 36524 * 86_400_000);
  assert.throws(() => parseDuration('1e400d', 'monitoring.drift.window'), /monitoring.drift.window must be a duration/);
});
