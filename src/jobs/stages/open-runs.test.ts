/**
 * A tracking run left RUNNING by a stage process that died is marked FAILED by the next
 * stage process (issue 9 item 13), through the tracking client on a real SQLite store;
 * a run whose process is alive, or that belongs to another tracking store, is left alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseParams } from '../../config/params.js';
import { failOrphanedRuns, forgetOpenRun, noteOpenRun } from './open-runs.js';
import { openTracking, type StageContext } from './stage-context.js';

test('orphaned runs are marked FAILED by the next stage; live and foreign ones are left alone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-open-runs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ctx: StageContext = { params: parseParams({}), cwd: dir, env: {} };
  const client = openTracking(ctx);
  t.after(() => client.close());
  const orphan = await client.startRun({ experimentName: 'e' });
  const live = await client.startRun({ experimentName: 'e' });
  // A dead pid: a process that has exited.
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid;
  noteOpenRun(ctx, orphan.runId, 'model_trainer');
  noteOpenRun(ctx, live.runId, 'model_trainer');
  const ledger = join(dir, '.carprice', 'open-runs');
  // Rewrite the orphan's entry as if a process that died had written it.
  const { writeFileSync, readFileSync } = await import('node:fs');
  const rec = JSON.parse(readFileSync(join(ledger, `${orphan.runId}.json`), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(ledger, `${orphan.runId}.json`), JSON.stringify({ ...rec, pid: deadPid }));
  const sleeper = spawn('sleep', ['30']);
  t.after(() => sleeper.kill());
  writeFileSync(join(ledger, `${live.runId}.json`), JSON.stringify({ ...rec, run_id: live.runId, pid: sleeper.pid }));
  const foreign = await client.startRun({ experimentName: 'e' });
  writeFileSync(
    join(ledger, `${foreign.runId}.json`),
    JSON.stringify({ ...rec, run_id: foreign.runId, pid: deadPid, tracking_uri: 'http://elsewhere:5000' }),
  );
  const reports: string[] = [];
  const failed = await failOrphanedRuns({ ...ctx, report: (l) => reports.push(l) });
  assert.deepEqual(failed, [orphan.runId]);
  assert.equal((await client.getRun(orphan.runId)).info.status, 'FAILED');
  assert.equal((await client.getRun(live.runId)).info.status, 'RUNNING');
  assert.equal((await client.getRun(foreign.runId)).info.status, 'RUNNING');
  assert.ok(!existsSync(join(ledger, `${orphan.runId}.json`)));
  assert.match(reports.join('\n'), /left RUNNING by a stage process that died; marked it FAILED/);
  forgetOpenRun(ctx, live.runId);
  assert.ok(!existsSync(join(ledger, `${live.runId}.json`)));
});
