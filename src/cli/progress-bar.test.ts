/**
 * The experiments' progress bar: the bar, the share done and an ETA from the pace so far;
 * drawn in place on a terminal, nothing at all elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressBar, progressLine } from './progress-bar.js';
import type { Output } from './command.js';

test('the bar shows done/total, the share and an ETA from the pace so far', () => {
  // 14 of 28 in 80 s: another 80 s to go
  assert.equal(
    progressLine({ done: 14, total: 28, label: 'ridge target-encoding' }, 80),
    '[##########----------] 14/28  50%  ETA 1m 20s  ridge target-encoding',
  );
  assert.match(progressLine({ done: 0, total: 5, label: 'start' }, 3), /0\/5 +0% {2}ETA \? {2}start$/);
  assert.match(progressLine({ done: 5, total: 5, label: 'done' }, 30), /5\/5 100% {2}ETA 0s {2}done$/);
  assert.match(progressLine({ done: 1, total: 4, label: 'x' }, 10), /ETA 30s/);
});

test('drawn in place on a terminal, cleared before other output; silent when disabled', () => {
  const written: string[] = [];
  const out: Output = { write: (s: string) => void written.push(s), isTTY: true };
  const off = progressBar(out, false);
  off.update({ done: 1, total: 2, label: 'a' });
  off.clear();
  assert.deepEqual(written, []);
  const on = progressBar(out, true);
  on.update({ done: 1, total: 2, label: 'a' });
  assert.equal(written.length, 1);
  assert.match(written[0], /^\r\[#{10}-{10}\] 1\/2 {2}50% {2}ETA .* a +$/);
  on.clear();
  assert.match(written[1], /^\r +\r$/);
  on.clear(); // nothing shown: nothing to clear
  assert.equal(written.length, 2);
});
