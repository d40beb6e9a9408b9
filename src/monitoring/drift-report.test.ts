import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseParams } from '../config/params.js';
import { compareWithReference, driftReport, thresholdsFromParams } from './drift-report.js';
import { openLogDatabase, recordInserter } from './log-store.js';
import { recordsOf, referenceBundle, shiftedListings, unshiftedListings } from '../../test/helpers/monitoring.js';

const thresholds = thresholdsFromParams(parseParams({}).monitoring.drift);
const bundle = referenceBundle();
const T0 = Date.parse('2026-06-01T00:00:00Z');

test('no shift: fresh listings from the training distribution are not flagged at the default thresholds', () => {
  for (const seed of [11, 12, 19]) {
    const r = compareWithReference(recordsOf(bundle, unshiftedListings(1000, seed), T0), {
      reference: bundle.reference!,
      thresholds,
    });
    const flagged = r.features.filter((f) => f.status !== 'ok');
    assert.deepEqual(
      flagged.map((f) => `${f.feature}: ${f.reasons.join(', ')}`),
      [],
      `seed ${seed}`,
    );
    assert.equal(r.prediction!.status, 'ok', `seed ${seed}: ${r.prediction!.reasons.join('; ')}`);
  }
});

test('no shift at the smallest window judged (min_rows = 200): ten windows, no warning', () => {
  for (let seed = 100; seed < 110; seed++) {
    const r = compareWithReference(recordsOf(bundle, unshiftedListings(200, seed), T0), {
      reference: bundle.reference!,
      thresholds,
    });
    const flagged = r.features.filter((f) => f.status !== 'ok').map((f) => `${f.feature}: ${f.reasons.join(', ')}`);
    assert.deepEqual(flagged, [], `seed ${seed}`);
    assert.equal(r.prediction!.status, 'ok');
  }
});

test('a synthetic shift (older cars, more diesel, a new make) is flagged on year, fuelType, make and the predictions', () => {
  const r = compareWithReference(recordsOf(bundle, shiftedListings(1000), T0), {
    reference: bundle.reference!,
    thresholds,
  });
  const by = Object.fromEntries(r.features.map((f) => [f.feature, f]));
  assert.equal(by.year.status, 'alert', JSON.stringify(by.year));
  assert.ok(by.year.psi! > thresholds.psiAlert);
  assert.equal(by.fuelType.status, 'alert');
  assert.ok(by.fuelType.categoryPsi! > thresholds.categoryPsiAlert);
  const diesel = by.fuelType.topShifts.find((s) => s.value === 'Diesel')!;
  assert.ok(diesel.window > diesel.reference + 0.2, JSON.stringify(diesel));
  assert.equal(by.make.status, 'alert');
  assert.ok(Math.abs(by.make.unseenRate! - 0.2) < 0.05, `unseen ${by.make.unseenRate}`);
  assert.equal(by.make.expectedUnseenRate, 0);
  assert.ok(by.make.topShifts.some((s) => s.value === 'Kia (unseen)'));
  // older cars are priced lower: the prediction distribution moved too
  assert.ok(r.prediction!.psi > thresholds.psiWarn, `prediction psi ${r.prediction!.psi}`);
  // untouched inputs stay quiet
  assert.equal(by.odometer.status, 'ok');
  assert.equal(by.transmissionType.status, 'ok');
});

test('driftReport reads the window from a real SQLite log: verdicts, the minimum window, a model without reference', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-drift-'));
  const db = openLogDatabase(join(dir, 'log.db'));
  try {
    const insert = recordInserter(db);
    insert(recordsOf(bundle, unshiftedListings(600), T0)); // last week: normal
    insert(recordsOf(bundle, shiftedListings(600), T0 + 7 * 86_400_000)); // this week: shifted
    const base = {
      db,
      reference: bundle.reference,
      referenceOrigin: 'bundle',
      model: { name: 'model', version: null },
      thresholds,
    };
    const normal = driftReport({ ...base, since: T0, until: T0 + 86_400_000, now: T0 + 86_400_000 });
    assert.equal(normal.status, 'ok', normal.summary);
    assert.equal(normal.window.rows, 600);
    const shifted = driftReport({ ...base, since: T0 + 6 * 86_400_000, now: T0 + 8 * 86_400_000 });
    assert.equal(shifted.status, 'alert');
    assert.match(shifted.summary, /year/);
    assert.match(shifted.summary, /make/);
    const few = driftReport({ ...base, since: T0, until: T0 + 100, now: T0 + 100 });
    assert.equal(few.status, 'insufficient');
    assert.match(few.summary, /100 logged prediction\(s\).*min_rows \(200\)/);
    const none = driftReport({
      ...base,
      reference: null,
      referenceOrigin: 'none',
      referenceNote: 'bundle saved without a reference',
      since: T0,
      now: T0 + 8 * 86_400_000,
    });
    assert.equal(none.status, 'no_reference');
    assert.match(none.summary, /bundle saved without a reference/);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('modelDriftReport (the dashboard entry): from a bundle directory and the log file to the report as data', async () => {
  const { modelDriftReport } = await import('./model-drift.js');
  const { fixtureBundle } = await import('../../test/helpers/serving.js');
  const dir = mkdtempSync(join(tmpdir(), 'carprice-drift-'));
  try {
    bundle.save(join(dir, 'model'));
    fixtureBundle({ n: 120 }).save(join(dir, 'old'));
    const db = openLogDatabase(join(dir, 'log.db'));
    recordInserter(db)(recordsOf(bundle, shiftedListings(400), T0));
    db.close();
    const o = {
      logPath: join(dir, 'log.db'),
      cwd: dir,
      openClient: () => {
        throw new Error('a bundle directory needs no tracking client');
      },
      thresholds,
      since: T0 - 1,
      now: T0 + 86_400_000,
    };
    const r = await modelDriftReport({ ...o, model: 'model' });
    assert.equal(r.status, 'alert');
    assert.equal(r.model.name, 'model');
    assert.equal(r.window.rows, 400);
    const old = await modelDriftReport({ ...o, model: 'old' });
    assert.equal(old.status, 'no_reference');
    assert.match(old.summary, /saved without a training reference profile/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('streaming: a capped window is the newest rows, scored as those rows all at once; memory does not depend on it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-drift-'));
  const db = openLogDatabase(join(dir, 'log.db'));
  try {
    const normal = recordsOf(bundle, unshiftedListings(500), T0);
    const shifted = recordsOf(bundle, shiftedListings(500), T0 + 86_400_000);
    // a challenger row between the champion rows must not count
    const insert = recordInserter(db);
    insert(normal);
    insert([{ ...shifted[0], role: 'challenger', requestId: 'shadow-0' }]);
    insert(shifted);
    const base = {
      db,
      reference: bundle.reference,
      referenceOrigin: 'bundle',
      model: { name: 'model', version: null },
      thresholds,
      since: T0,
      now: T0 + 3 * 86_400_000,
    };
    const o = { reference: bundle.reference!, thresholds };
    // 700 newest champion rows: the last 200 normal ones and every shifted one
    const capped = driftReport({ ...base, maxRows: 700 });
    assert.equal(capped.window.rows, 700);
    assert.equal(capped.window.newestOnly, 700);
    assert.match(capped.summary, /the newest 700 of 1000 logged predictions in the window/);
    const expect = compareWithReference([...normal.slice(300), ...shifted], o);
    assert.deepEqual(capped.features, expect.features);
    assert.deepEqual(capped.prediction, expect.prediction);
    // uncapped (what `carprice monitor drift` asks for): every row
    const all = driftReport({ ...base, maxRows: null });
    assert.equal(all.window.rows, 1000);
    assert.equal(all.window.newestOnly, null);
    assert.deepEqual(all.features, compareWithReference([...normal, ...shifted], o).features);
    assert.equal(driftReport({ ...base, maxRows: 0 }).window.rows, 0);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unseen values named like Object.prototype keys count as unseen, not as known categories', () => {
  const records = recordsOf(bundle, unshiftedListings(300), T0).map((r, i) =>
    i % 2 ? { ...r, inputs: { ...r.inputs, make: ['constructor', 'toString', '__proto__'][i % 3] } } : r,
  );
  const r = compareWithReference(records, { reference: bundle.reference!, thresholds });
  const make = r.features.find((f) => f.feature === 'make')!;
  assert.ok(Math.abs(make.unseenRate! - 0.5) < 0.01, `unseen ${make.unseenRate}`);
  assert.equal(make.status, 'alert');
});
