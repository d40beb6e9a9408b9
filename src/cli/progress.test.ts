import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEta, ttyProgress } from './progress.js';

test('the progress meter rewrites one line on a TTY (rows and rows/s, throttled) and stays silent elsewhere', () => {
  const written: string[] = [];
  let t = 0;
  const tty = { isTTY: true, write: (s: string) => void written.push(s) };
  const meter = ttyProgress(tty, () => t)!('reading', 'big.csv');
  t = 1000;
  meter(5000);
  t = 1100;
  meter(6000); // throttled: within 250 ms of the last line
  t = 2000;
  meter(10_000, true);
  assert.deepEqual(written, [
    '\rreading big.csv: 5,000 listings, 5,000/s\x1b[K',
    '\rreading big.csv: 10,000 listings, 5,000/s in 2.0 s\x1b[K\n',
  ]);
  assert.equal(ttyProgress({ isTTY: false, write: () => assert.fail('no output off a TTY') }), undefined);
});

test('with a total the meter shows done/total, the pace and an ETA (trees of a fit)', () => {
  const written: string[] = [];
  let t = 0;
  const meter = ttyProgress({ isTTY: true, write: (s: string) => void written.push(s) }, () => t)!(
    'fitting',
    'gbdt',
    300,
    'trees',
  );
  t = 4000;
  meter(120);
  t = 4100;
  meter(121);
  t = 10_000;
  meter(300, true);
  assert.deepEqual(written, [
    '\rfitting gbdt: 120/300 trees, 30/s, ETA 6s\x1b[K',
    '\rfitting gbdt: 300/300 trees, 30/s in 10.0 s\x1b[K\n',
  ]);
  const slow: string[] = [];
  const m2 = ttyProgress({ isTTY: true, write: (s: string) => void slow.push(s) }, () => t)!(
    'building features',
    '(tree)',
    7,
    'steps',
  );
  t += 2000;
  m2(1);
  assert.equal(slow[0], '\rbuilding features (tree): 1/7 steps, 0.5/s, ETA 12s\x1b[K');
  assert.equal(formatEta(59.4), '59s');
  assert.equal(formatEta(185), '3m05s');
  assert.equal(formatEta(3720), '1h02m');
});
