/**
 * `carprice serve --shadow DIR` as a real process: the challenger (a ridge + boosted-trees
 * blend) prices every request in a child process of the server whose every thread runs
 * under SCHED_IDLE at nice 19, fed by one relay thread of the server at the same priority
 * (read from /proc/<pid>/task/<tid>/stat; no other thread of the server changes); with
 * `monitoring.shadow_isolation=thread`, on a thread of the server at that priority. Its rows
 * land in the real SQLite log beside the champion's, with predictOne's prices; /metrics
 * counts them; the child process ends with the server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iterateRecords, openLogDatabase } from '../../src/monitoring/log-store.js';
import { fixtureBundle, listings, savedBundle, startServe } from '../helpers/serving.js';

const champion = fixtureBundle();
const challenger = fixtureBundle({ algo: 'blend', seed: 9 });
const rows = listings(12, 21);
const round2 = (x: number) => Math.round(x * 100) / 100;

/** Nice value and scheduling policy by thread id of a process (fields 19 and 41 of each thread's stat file). */
function threadSched(pid: number): Map<number, { nice: number; policy: number }> {
  const out = new Map<number, { nice: number; policy: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(Number(tid), { nice: Number(fields[16]), policy: Number(fields[38]) });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** The ids of a process's child processes. */
function childPids(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
    readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
  );
}

for (const isolation of ['process', 'thread'] as const)
  test(`serve --shadow (${isolation}): the challenger prices each request off the serving thread, SCHED_IDLE at nice 19; both models are logged`, async () => {
    const work = mkdtempSync(join(tmpdir(), 'carprice-shadow-'));
    const log = join(work, 'predictions.db');
    const s = await startServe(
      [
        'serve',
        '--model',
        savedBundle(champion),
        '--shadow',
        savedBundle(challenger),
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--set',
        'serving.log_requests=false',
        '--set',
        `monitoring.log_path=${log}`,
        '--set',
        'monitoring.drift_interval_s=0',
        '--set',
        `monitoring.shadow_isolation=${isolation}`,
      ],
      work,
    );
    const ids: string[] = [];
    let challengerPid = 0;
    try {
      for (const l of rows) {
        const r = await fetch(`${s.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(l),
        });
        assert.equal(r.status, 200);
        ids.push(r.headers.get('x-request-id')!);
        await r.arrayBuffer();
      }
      let metrics = '';
      // the challenger runs at idle priority: on cores saturated by other test files (or other jobs)
      // it gets CPU only when they leave some, so the wait is generous (5 minutes, as the scorer's
      // tests: a 60 s wait timed out at load 5-11), not a latency bound
      for (let i = 0; i < 6000 && !/carprice_shadow_predictions_total\{outcome="ok"\} 12\b/.test(metrics); i++) {
        await new Promise((r) => setTimeout(r, 50));
        metrics = await (await fetch(`${s.url}/metrics`)).text();
      }
      assert.match(metrics, /carprice_shadow_predictions_total\{outcome="ok"\} 12\b/);
      if (process.platform === 'linux') {
        const threads = [...threadSched(s.child.pid!)];
        const low = threads.filter(([, t]) => t.nice === 19);
        assert.equal(low.length, 1, `threads, nice values and policies: ${JSON.stringify(threads)}`);
        // SCHED_IDLE is 5; every other thread keeps SCHED_OTHER (0) at nice 0
        assert.equal(low[0][1].policy, 5, `threads, nice values and policies: ${JSON.stringify(threads)}`);
        for (const [tid, t] of threads)
          if (tid !== low[0][0]) assert.deepEqual(t, { nice: 0, policy: 0 }, `thread ${tid}`);
        const children = childPids(s.child.pid!);
        if (isolation === 'thread') assert.deepEqual(children, []);
        else {
          assert.equal(children.length, 1, 'one challenger process');
          challengerPid = children[0];
          const its = [...threadSched(challengerPid)];
          assert.ok(its.length >= 4, `V8's threads too: ${JSON.stringify(its)}`);
          for (const [tid, t] of its) assert.deepEqual(t, { nice: 19, policy: 5 }, `challenger thread ${tid}`);
        }
      }
    } finally {
      s.child.kill('SIGTERM');
      assert.equal(await s.exited, 0);
    }
    if (challengerPid) {
      const pid = challengerPid;
      const gone = () => {
        try {
          return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
        } catch {
          return true;
        }
      };
      for (let i = 0; i < 400 && !gone(); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(gone(), 'the challenger process ends with the server');
    }
    const db = openLogDatabase(log, { readonly: true });
    const logged = [...iterateRecords(db)];
    db.close();
    rmSync(work, { recursive: true, force: true });
    const p = challenger.compilePredictor();
    rows.forEach((l, i) => {
      const champ = logged.find((r) => r.requestId === ids[i] && r.role === 'champion');
      const chall = logged.find((r) => r.requestId === ids[i] && r.role === 'challenger');
      assert.ok(champ && chall, `request ${i}`);
      const want = p.predictOne(l);
      assert.ok(want.ok);
      assert.equal(chall.price, round2(want.price), `request ${i}`);
      assert.equal(chall.error, null);
    });
  });
