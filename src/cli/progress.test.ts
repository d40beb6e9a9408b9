import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duration, ttyProgress } from './progress.js';

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
    '\rreading big.csv: 5,000 listings, 5,000/s',
    '\rreading big.csv: 10,000 listings, 5,000/s\n',
  ]);
  assert.equal(ttyProgress({ isTTY: false, write: () => assert.fail('no output off a TTY') }), undefined);
});

test('the meter shows the share read and an ETA when the step knows it, and pads over a longer line', () => {
  const written: string[] = [];
  let t = 0;
  const meter = ttyProgress({ isTTY: true, write: (s: string) => void written.push(s) }, () => t)!(
    'predicting',
    'big.csv',
  );
  t = 2000;
  meter(100_000, false, 0.25);
  t = 4000;
  meter(200_000, true, 1);
  assert.deepEqual(written, [
    '\rpredicting big.csv: 100,000 listings, 50,000/s, 25% read, ETA 6s',
    `\r${'predicting big.csv: 200,000 listings, 50,000/s'.padEnd('predicting big.csv: 100,000 listings, 50,000/s, 25% read, ETA 6s'.length)}\n`,
  ]);
});

test('with a total the meter shows done/total, the pace and an ETA (trees of a fit, steps of features)', () => {
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
    '\rfitting gbdt: 120/300 trees, 30/s, ETA 6s',
    `\r${'fitting gbdt: 300/300 trees, 30/s'.padEnd('fitting gbdt: 120/300 trees, 30/s, ETA 6s'.length)}\n`,
  ]);
  const slow: string[] = [];
  const steps = ttyProgress({ isTTY: true, write: (s: string) => void slow.push(s) }, () => t)!(
    'building features',
    'for tree models',
    undefined,
    'steps',
  );
  t += 2000;
  steps(1);
  assert.equal(slow[0], '\rbuilding features for tree models: 1 steps, 0.5/s');
  assert.equal(duration(75), '1m 15s');
});
