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
