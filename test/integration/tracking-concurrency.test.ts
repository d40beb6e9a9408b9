/**
 * Reliability of the embedded store with real processes: several children logging to one
 * SQLite file at once lose nothing (WAL + busy timeout + immediate transactions), and a
 * child killed with SIGKILL mid-run leaves every committed metric readable and the run
 * still RUNNING, exactly as it was.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteTrackingStore } from '../../src/tracking/sqlite/sqlite-tracking-store.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'tracking-writer-child.js');

function runChild(args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('error', reject);
    p.on('exit', (code) => resolve(code));
  });
}

describe('SQLite store under several processes', () => {
  let dir: string;
  let db: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'carprice-concurrency-'));
    db = join(dir, 'mlflow.db');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loses no write when 4 processes log to the same run at once', async () => {
    const store = new SqliteTrackingStore({ path: db, defaultArtifactRoot: join(dir, 'art') });
    const run = await store.createRun({});
    const writers = ['0', '1', '2', '3'];
    const codes = await Promise.all(writers.map((w) => runChild([db, run.info.runId, w, '150'])));
    assert.deepEqual(codes, [0, 0, 0, 0]);
    const got = await store.getRun(run.info.runId);
    for (const w of writers) {
      const history = await store.getMetricHistory(run.info.runId, `w${w}`);
      assert.equal(history.items.length, 150, `writer ${w}`);
      assert.deepEqual(history.items[149], { key: `w${w}`, value: 74.5, timestamp: 1149, step: 149 });
      assert.equal((await store.getMetricHistory(run.info.runId, `batch${w}`)).items.length, 50);
      assert.equal(got.data.params.find((p) => p.key === `param_${w}`)?.value, w);
    }
    assert.equal(got.data.metrics.length, 8);
    await store.close();
  });

  it('keeps every committed metric and the RUNNING status after SIGKILL', async () => {
    const store = new SqliteTrackingStore({ path: db, defaultArtifactRoot: join(dir, 'art') });
    const run = await store.createRun({ runName: 'killed' });
    const p = spawn(process.execPath, [child, db, run.info.runId, 'k', '40', 'hang'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      p.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(buf.trim());
      });
      p.on('exit', () => reject(new Error('child exited before committing')));
    });
    assert.equal(line, 'committed 40');
    const exited = new Promise<NodeJS.Signals | null>((resolve) => p.on('exit', (_c, sig) => resolve(sig)));
    p.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const after = new SqliteTrackingStore({ path: db, defaultArtifactRoot: join(dir, 'art') });
    const got = await after.getRun(run.info.runId);
    assert.equal(got.info.status, 'RUNNING');
    assert.equal(got.info.lifecycleStage, 'active');
    const history = await after.getMetricHistory(run.info.runId, 'wk');
    assert.equal(history.items.length, 40);
    assert.deepEqual(
      history.items.map((m) => m.step),
      Array.from({ length: 40 }, (_, i) => i),
    );
    assert.equal((await after.getMetricHistory(run.info.runId, 'batchk')).items.length, 50);
    // The store stays writable after the crash.
    await after.updateRun(run.info.runId, { status: 'KILLED', endTime: 1 });
    assert.equal((await after.getRun(run.info.runId)).info.status, 'KILLED');
    await after.close();
    await store.close();
  });
});
