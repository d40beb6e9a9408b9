/**
 * `carprice monitor export` and `carprice monitor drift` as real processes on a real log:
 * JSON lines out, the drift table and its exit code (9 past an alert threshold, 0 for a
 * normal window), --json, and a bundle saved without a reference profile (rebuilt from its
 * training file when the fingerprint matches; otherwise the report says what is missing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuiltCli } from '../helpers/built-cli.js';
import { recordsOf, referenceBundle, shiftedListings, unshiftedListings } from '../helpers/monitoring.js';
import { openLogDatabase, recordInserter } from '../../src/monitoring/log-store.js';
import { parseParams } from '../../src/config/params.js';
import { loadListings } from '../../src/jobs/load-listings.js';
import { dataFingerprint } from '../../src/jobs/train.js';
import { trainBundle } from '../../src/bundle/train-bundle.js';
import { writeFixtureCsv } from '../fixtures/listings.js';

const dir = mkdtempSync(join(tmpdir(), 'carprice-moncli-'));
const now = Date.now();
const bundle = referenceBundle();
bundle.save(join(dir, 'model'));
{
  const db = openLogDatabase(join(dir, '.carprice', 'predictions.db'));
  const insert = recordInserter(db);
  insert(recordsOf(bundle, unshiftedListings(400), now - 2 * 86_400_000));
  insert(recordsOf(bundle, shiftedListings(300), now - 3_600_000));
  db.close();
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('monitor drift: a shifted window exits 9 naming the drifted inputs; a normal one exits 0', async () => {
  const shifted = await runBuiltCli(['monitor', 'drift', '--model', 'model', '--since', '1d'], dir);
  assert.equal(shifted.code, 9, shifted.stderr);
  assert.match(shifted.stdout, /300 logged predictions/);
  assert.match(shifted.stdout, /^year\s.*ALERT/m);
  assert.match(shifted.stdout, /^make\s.*ALERT.*Kia \(unseen\)/m);
  assert.match(shifted.stdout, /^fuelType\s.*ALERT/m);
  assert.match(shifted.stdout, /verdict: alert: /);
  const until = new Date(now - 86_400_000).toISOString();
  const normal = await runBuiltCli(['monitor', 'drift', '--model', 'model', '--since', '3d', '--until', until], dir);
  assert.equal(normal.code, 0, normal.stdout + normal.stderr);
  assert.match(normal.stdout, /verdict: no drift past the thresholds over 400 logged predictions/);
  const json = await runBuiltCli(['monitor', 'drift', '--model', 'model', '--since', '1d', '--json'], dir);
  assert.equal(json.code, 9);
  const r = JSON.parse(json.stdout);
  assert.equal(r.kind, 'carprice-drift-report');
  assert.equal(r.status, 'alert');
  assert.equal(r.reference.origin, 'bundle');
});

test('monitor drift: flag and file errors are clear', async () => {
  const bad = await runBuiltCli(['monitor', 'drift', '--model', 'model', '--since', 'yesterday'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--since must be a duration like 24h, 7d or 2w, or an ISO date/);
  const noLog = await runBuiltCli(['monitor', 'drift', '--model', 'model', '--log', 'nope.db'], dir);
  assert.notEqual(noLog.code, 0);
  assert.match(noLog.stderr, /no prediction log at .*nope\.db; `carprice serve` writes it/);
  // these ended in "internal error: RangeError: Invalid time value" (exit 1), or rolled over to March 2
  for (const cmd of ['drift', 'shadow', 'export']) {
    const far = await runBuiltCli(['monitor', cmd, '--since', '99999999999999999999d'], dir);
    assert.equal(far.code, 2, far.stderr);
    assert.equal(
      far.stderr,
      'carprice: --since 99999999999999999999d is longer than 100 years; give a shorter duration, or a date like 2020-01-01\n',
    );
  }
  const feb30 = await runBuiltCli(['monitor', 'drift', '--model', 'model', '--since', '2026-02-30'], dir);
  assert.equal(feb30.code, 2, feb30.stdout);
  assert.match(feb30.stderr, /--since must be a duration \(7d\) or an ISO date or date-time .*got "2026-02-30"/);
});

test('monitor export writes the window as JSON lines, to stdout or atomically to --out', async () => {
  const r = await runBuiltCli(['monitor', 'export', '--since', '2h'], dir);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 300);
  assert.deepEqual(Object.keys(lines[0]).sort(), [
    'error',
    'inputs',
    'interval',
    'latency_ms',
    'listing_id',
    'model',
    'predicted_price',
    'request_id',
    'role',
    'route',
    'row',
    'ts',
    'unseen',
  ]);
  assert.equal(lines[0].role, 'champion');
  assert.ok(lines[0].interval.lower < lines[0].predicted_price);
  const all = await runBuiltCli(['monitor', 'export', '--out', 'all.jsonl'], dir);
  assert.equal(all.code, 0);
  assert.match(all.stderr, /700 logged prediction\(s\) written to all\.jsonl/);
  const role = await runBuiltCli(['monitor', 'export', '--role', 'boss'], dir);
  assert.equal(role.code, 2);
  assert.match(role.stderr, /--role must be champion or challenger/);
});

test('a bundle saved without a reference: rebuilt from its training file when the rows match, else the report says what is missing', async () => {
  const params = parseParams({});
  const csv = writeFixtureCsv(join(dir, 'train.csv'), { n: 600, seed: 5 });
  const loaded = await loadListings(csv, { params });
  const old = trainBundle(loaded.frame, loaded.y!, loaded.schema, {
    algo: 'ridge',
    algoParams: { ridge: { alpha: 0.01 } },
    features: params.features,
    seed: 42,
    metadata: {
      createdAt: '2025-01-01T00:00:00.000Z',
      training: { dataHash: dataFingerprint(loaded.frame, loaded.y!), rows: loaded.frame.nRows, source: 'train.csv' },
      params: {},
      carpriceVersion: 'old',
    },
  });
  assert.equal(old.reference, null);
  old.save(join(dir, 'old-model'));
  const r = await runBuiltCli(['monitor', 'drift', '--model', 'old-model', '--since', '1d', '--json'], dir);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.reference.origin, 'recomputed from ' + join(dir, 'train.csv'));
  assert.equal(rep.reference.rows, 600);
  assert.equal(rep.status, 'alert');
  writeFixtureCsv(join(dir, 'train.csv'), { n: 600, seed: 6 });
  const changed = await runBuiltCli(['monitor', 'drift', '--model', 'old-model', '--since', '1d'], dir);
  assert.equal(changed.code, 0);
  assert.match(changed.stdout, /reference: none; the model was saved without a training reference profile/);
  assert.match(changed.stdout, /no longer holds the rows it was trained on/);
  assert.match(changed.stdout, /give --reference TRAIN_FILE/);
  const given = await runBuiltCli(
    ['monitor', 'drift', '--model', 'old-model', '--since', '1d', '--reference', 'train.csv', '--json'],
    dir,
  );
  assert.equal(JSON.parse(given.stdout).reference.origin, 'profiled from ' + join(dir, 'train.csv'));
});
