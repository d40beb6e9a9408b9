import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { PredictionLog } from './prediction-log.js';
import { MonitoringMetrics } from './monitoring-metrics.js';
import { countRecords, iterateRecords, openLogDatabase, pruneLog, recordInserter } from './log-store.js';
import type { PredictionRecord } from './prediction-record.js';

function rec(i: number, ts = Date.now()): PredictionRecord {
  return {
    ts,
    requestId: `r${i}`,
    row: 0,
    listingId: i % 2 ? `L${i}` : null,
    route: '/predict',
    role: 'champion',
    modelName: 'm',
    modelVersion: '3',
    price: 100_000 + i,
    lower: 90_000,
    upper: 110_000,
    level: 0.9,
    latencyMs: 0.4,
    inputs: { make: 'Maruti', odometer: i },
    unseen: i % 3 ? [] : ['variant'],
    error: null,
  };
}

test('PredictionLog writes queued rows to a real SQLite file on its own thread; the rows read back whole', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-plog-'));
  const path = join(dir, 'sub', 'log.db');
  const log = await PredictionLog.open({ path, flushMs: 5 });
  try {
    for (let i = 0; i < 1000; i++) log.record([rec(i)]);
    await log.flush();
    assert.equal(log.stats().written, 1000);
    const db = openLogDatabase(path, { readonly: true });
    const rows = [...iterateRecords(db)];
    db.close();
    assert.equal(rows.length, 1000);
    assert.deepEqual(rows[7], { ...rec(7, rows[7].ts) });
    assert.deepEqual(rows[3].unseen, ['variant']);
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PredictionLog is bounded: rows past queueSize are dropped and counted in the metrics, never awaited', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-plog-'));
  const registry = new Registry();
  const metrics = new MonitoringMetrics(registry);
  const log = await PredictionLog.open({ path: join(dir, 'log.db'), queueSize: 100, batchSize: 1000, metrics });
  try {
    const batch = Array.from({ length: 60 }, (_, i) => rec(i));
    log.record(batch);
    log.record(batch); // only 40 fit
    log.record(batch); // none fit
    assert.equal(log.stats().queued, 100);
    assert.equal(log.stats().dropped.queue_full, 80);
    await log.flush();
    assert.equal(log.stats().written, 100);
    const text = await registry.metrics();
    assert.match(text, /carprice_prediction_log_dropped_total\{reason="queue_full"\} 80/);
    assert.match(text, /carprice_prediction_log_written_total 100/);
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a row the writer thread cannot be handed (inputs nested 20,000 deep) is dropped and counted; its batch and the process live on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-plog-'));
  const log = await PredictionLog.open({ path: join(dir, 'log.db'), flushMs: 5 });
  try {
    const poison = rec(1);
    poison.inputs = { ...poison.inputs, extra: JSON.parse('['.repeat(20_000) + ']'.repeat(20_000)) as unknown };
    // from the flush timer, as in the server: a throw there would end the process
    log.record([rec(0), poison, rec(2)]);
    await new Promise((res) => setTimeout(res, 50));
    await log.flush();
    assert.equal(log.stats().written, 2);
    assert.equal(log.stats().dropped.write_failed, 1);
    const db = openLogDatabase(join(dir, 'log.db'), { readonly: true });
    assert.deepEqual(
      [...iterateRecords(db)].map((r) => r.requestId),
      ['r0', 'r2'],
    );
    db.close();
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sampling is per request at the configured rate', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-plog-'));
  let x = 0;
  const draws = [0.05, 0.5, 0.09, 0.95];
  const log = await PredictionLog.open({ path: join(dir, 'log.db'), sampleRate: 0.1, random: () => draws[x++ % 4] });
  const none = await PredictionLog.open({ path: join(dir, 'log2.db'), sampleRate: 0 });
  try {
    assert.deepEqual([log.sample(), log.sample(), log.sample(), log.sample()], [true, false, true, false]);
    assert.equal(none.sample(), false);
  } finally {
    await log.close();
    await none.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a log path that cannot be a database fails to open with a coded error naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-plog-'));
  try {
    mkdirSync(join(dir, 'adir'));
    await assert.rejects(PredictionLog.open({ path: join(dir, 'adir') }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'FILE_UNWRITABLE');
      assert.match(e.message, /adir/);
      return true;
    });
    assert.throws(
      () => openLogDatabase(join(dir, 'missing.db'), { readonly: true }),
      /no prediction log at .*missing\.db/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('retention: rows older than retention_days and beyond max_rows are deleted, oldest first', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-plog-'));
  const db = openLogDatabase(join(dir, 'log.db'));
  try {
    const now = Date.parse('2026-12-06T00:00:00Z');
    const insert = recordInserter(db);
    insert([rec(0, now - 40 * 86_400_000), rec(1, now - 31 * 86_400_000)]);
    insert(Array.from({ length: 10 }, (_, i) => rec(10 + i, now - 1000 + i)));
    assert.equal(pruneLog(db, { now, retentionDays: 30, maxRows: 6 }), 6);
    const left = [...iterateRecords(db)].map((r) => r.requestId);
    assert.deepEqual(left, ['r14', 'r15', 'r16', 'r17', 'r18', 'r19']);
    assert.equal(countRecords(db), 6);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rotation keeps the file bounded: 20 rounds of 2,000 rows at max_rows 2,000 leave it the size of one round', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-plog-'));
  const path = join(dir, 'log.db');
  const db = openLogDatabase(path);
  try {
    const insert = recordInserter(db);
    const now = Date.parse('2026-12-06T00:00:00Z');
    const big = { make: 'Maruti', model: 'SWIFT', variant: 'VXI '.repeat(50), year: 2019, odometer: 40_000 };
    const round = (k: number) =>
      Array.from({ length: 2000 }, (_, i) => ({ ...rec(k * 2000 + i, now - 1000 + k), inputs: big }));
    const sizes: number[] = [];
    for (let k = 0; k < 20; k++) {
      insert(round(k));
      pruneLog(db, { now, retentionDays: 30, maxRows: 2000 });
      db.pragma('wal_checkpoint(TRUNCATE)');
      sizes.push(statSync(path).size);
    }
    assert.equal(countRecords(db), 2000);
    assert.equal(db.pragma('freelist_count', { simple: true }), 0);
    // after the first prune the file no longer grows (a few pages of slack at most)
    assert.ok(sizes[19] <= sizes[1] * 1.1, `file sizes ${sizes.join(', ')}`);
    assert.equal(db.pragma('auto_vacuum', { simple: true }), 2); // INCREMENTAL
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
