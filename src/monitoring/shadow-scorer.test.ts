/**
 * The shadow challenger on its own (no server), as a worker thread and as a child process
 * (`isolation`): it prices what the serving thread appends with the results of `predictOne`
 * (prices, intervals, unseen fields, per-listing errors), a tree model included; its rows
 * reach the log. On Linux the thread runs at the policy and nice value asked (SCHED_IDLE,
 * 19 by default), read from outside the thread in /proc/self/task/<tid>/stat, and no other
 * thread of the process changes; the child process runs with every one of its threads at
 * them, and dies with its relay thread (a stuck one included) and with the scorer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iterateRecords, openLogDatabase } from './log-store.js';
import { referenceBundle, unshiftedListings } from '../../test/helpers/monitoring.js';
import { fileURLToPath } from 'node:url';
import { ShadowScorer, type ShadowIsolation } from './shadow-scorer.js';
import type { ObservedPrediction, PredictionRecord } from './prediction-record.js';

const bundle = referenceBundle({ n: 400, seed: 7, algo: 'blend' });
const saved = bundle.toJSON();
const info = { name: 'challenger', version: '3' };

/** SCHED_OTHER and SCHED_IDLE, as the kernel numbers them in /proc/<pid>/task/<tid>/stat (field 41). */
const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

/** The nice value (field 19) and scheduling policy (field 41) of each thread of this process, by thread id. */
function threadSched(): Map<number, { nice: number; policy: number }> {
  const out = new Map<number, { nice: number; policy: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(Number(tid), { nice: Number(fields[16]), policy: Number(fields[38]) }); // fields[0] is field 3 (state)
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/**
 * How long to wait for a challenger process to start or end: it runs under SCHED_IDLE, so on
 * a saturated machine (other test files, other jobs) it gets a core only now and then (with
 * this file's process and two busy loops pinned to one core, the stuck challenger below took
 * 78 s to start, the kill 2.3 s). A wait, not a timing: the tests check what happens, not how fast.
 */
const START_MS = 300_000;

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A scorer writing to a real prediction log (a SQLite file created first, as the log's writer
 * thread does); `rows()` reads back what the challenger stored, `counts` what it reported.
 */
function scorerWithLog(
  nice?: number,
  policy?: 'idle' | 'nice',
  o: { path?: string; timeoutMs?: number; isolation?: ShadowIsolation; processScript?: string } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-shadow-scorer-'));
  const path = o.path ?? join(dir, 'predictions.db');
  if (!o.path) openLogDatabase(path).close();
  const counts = { written: 0, failed: 0, errors: [] as string[] };
  const scorer = new ShadowScorer({
    log: {
      path,
      wrote: (n, failed, error) => {
        counts.written += n;
        counts.failed += failed;
        if (error) counts.errors.push(error);
      },
    },
    pollMs: 5,
    nice,
    policy,
    timeoutMs: o.timeoutMs,
    isolation: o.isolation ?? 'thread',
    processScript: o.processScript,
  });
  return {
    scorer,
    path,
    counts,
    rows: (): PredictionRecord[] => {
      const db = openLogDatabase(path, { readonly: true });
      try {
        return [...iterateRecords(db)];
      } finally {
        db.close();
      }
    },
    close: async () => {
      await scorer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A priced request as serving hands it over: its listings' JSON as an array, or (`shape`) the
 * body as it came in: one listing (here after a byte-order mark, which the parser skips) or a
 * batch body.
 */
function request(
  requestId: string,
  listings: Record<string, unknown>[],
  shape: 'array' | 'listing' | 'batch' = 'array',
): ObservedPrediction {
  return {
    route: listings.length === 1 ? '/predict' : '/predict/batch',
    requestId,
    listings,
    listingsJson:
      shape === 'listing'
        ? `\ufeff${JSON.stringify(listings[0])}`
        : shape === 'batch'
          ? JSON.stringify({ listings })
          : JSON.stringify(listings),
    jsonShape: shape,
    rows: [],
    model: { name: 'champion', version: '1' },
    latencyMs: 0,
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

for (const isolation of ['thread', 'process'] as const) {
  test(`${isolation}: the challenger prices every request's listings with predictOne's results (from the body's own JSON, whatever it holds)`, async () => {
    const { scorer, rows: stored, counts, close } = scorerWithLog(undefined, undefined, { isolation });
    try {
      scorer.setModel(saved, info);
      await until('the challenger', () => scorer.stats().model !== null, START_MS);
      const ls = unshiftedListings(30, 3);
      const requests = [
        request('a', [ls[0]], 'listing'),
        request('b', [ls[1], { ...ls[2], odometer: -5 }, { ...ls[3], make: 'Never Seen Motors' }], 'batch'),
        ...ls.slice(4).map((l, i) => request(`c${i}`, [l], i % 2 ? 'listing' : 'array')),
      ];
      for (const r of requests) scorer.submit(r, 1_700_000_000_000);
      await scorer.idle();
      // stored before the thread answered for them
      assert.deepEqual(counts, { written: 30, failed: 0, errors: [] });
      const rows = stored();
      assert.equal(rows.length, 30);
      const p = bundle.compilePredictor();
      for (const r of requests)
        r.listings.forEach((l, i) => {
          const row = rows.find((x) => x.requestId === r.requestId && x.row === i);
          assert.ok(row, `${r.requestId}/${i}`);
          assert.equal(row.role, 'challenger');
          assert.equal(row.modelVersion, '3');
          assert.ok(row.latencyMs >= 0);
          const one = p.predictOne(l);
          if (!one.ok) {
            assert.equal(row.price, null);
            assert.equal(row.error, 'odometer: must not be negative, got -5');
            return;
          }
          assert.equal(row.error, null);
          assert.equal(row.price, round2(one.price));
          assert.equal(row.lower, round2(one.interval!.lower));
          assert.equal(row.upper, round2(one.interval!.upper));
          assert.deepEqual(row.unseen, one.unknownCategories);
        });
      assert.ok(rows.find((x) => x.requestId === 'b' && x.row === 2)!.unseen.includes('make'));
      const st = scorer.stats();
      assert.equal(st.scored, 29);
      assert.equal(st.failed, 1);
    } finally {
      await close();
    }
  });

  test(`${isolation}: a log the challenger cannot write costs its rows (counted), never the scoring`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carprice-shadow-unwritable-'));
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const { scorer, counts, close } = scorerWithLog(undefined, undefined, {
      path: join(file, 'predictions.db'),
      isolation,
    });
    try {
      scorer.setModel(saved, info);
      await until('the challenger', () => scorer.stats().model !== null, START_MS);
      const ls = unshiftedListings(5, 4);
      ls.forEach((l, i) => scorer.submit(request(`u${i}`, [l]), 1_700_000_000_000));
      await scorer.idle();
      assert.equal(scorer.stats().scored, 5);
      assert.equal(counts.written, 0);
      assert.equal(counts.failed, 5);
      assert.match(counts.errors[0], /cannot open the prediction log .*not-a-folder/);
      assert.equal(scorer.stats().restarts, 0);
    } finally {
      await close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${isolation}: another writer holding the log's lock past the wait costs that batch's rows; later rows are stored`, async () => {
    // the challenger gives the rows up after timeoutMs / 2; a long timeout keeps a starved idle-priority challenger (a loaded machine) from being restarted first
    const { scorer, path, counts, rows, close } = scorerWithLog(undefined, undefined, { timeoutMs: 4000, isolation });
    const other = openLogDatabase(path);
    try {
      scorer.setModel(saved, info);
      await until('the challenger', () => scorer.stats().model !== null, START_MS);
      const ls = unshiftedListings(6, 5);
      other.exec('BEGIN IMMEDIATE'); // another writer (the log's writer thread, another server) holds the lock
      for (let i = 0; i < 3; i++) scorer.submit(request(`held${i}`, [ls[i]]), 1_700_000_000_000);
      await scorer.idle(); // the challenger waited 2 s (timeoutMs / 2) for the lock, then gave the rows up
      other.exec('COMMIT');
      assert.deepEqual({ written: counts.written, failed: counts.failed }, { written: 0, failed: 3 });
      assert.match(counts.errors[0], /locked|busy/i);
      for (let i = 3; i < 6; i++) scorer.submit(request(`free${i}`, [ls[i]]), 1_700_000_000_000);
      await scorer.idle();
      assert.deepEqual({ written: counts.written, failed: counts.failed }, { written: 3, failed: 3 });
      assert.deepEqual(
        rows()
          .map((r) => r.requestId)
          .sort(),
        ['free3', 'free4', 'free5'],
      );
      assert.equal(scorer.stats().restarts, 0, 'the watchdog did not restart a thread that was waiting for a lock');
    } finally {
      other.close();
      await close();
    }
  });
}

const linux = process.platform === 'linux' ? false : 'per-thread nice values are Linux only';

test(
  "thread: the challenger's thread runs under SCHED_IDLE at nice 19 by default; no other thread changes",
  { skip: linux },
  async () => {
    const before = threadSched();
    const { scorer, close } = scorerWithLog();
    try {
      scorer.setModel(saved, info);
      await until('the challenger', () => scorer.stats().model !== null, START_MS);
      const after = threadSched();
      const fresh = [...after].filter(([tid]) => !before.has(tid));
      const low = fresh.filter(([, t]) => t.nice === 19);
      assert.equal(low.length, 1, `new threads and their nice values and policies: ${JSON.stringify(fresh)}`);
      const [tid, sched] = low[0];
      assert.equal(sched.policy, SCHED_IDLE, `thread ${tid}: policy ${sched.policy}`);
      for (const [t, x] of fresh) if (t !== tid) assert.equal(x.policy, SCHED_OTHER, `thread ${t}`);
      for (const [t, x] of before) if (after.has(t)) assert.deepEqual(after.get(t), x, `thread ${t}`);
      assert.deepEqual(after.get(process.pid), before.get(process.pid), 'the main thread keeps its priority');
      assert.deepEqual(scorer.stats().priority, { policy: 'idle', nice: 19, tid });
      // the pause protocol: the challenger watches the thread that made the scorer (here the main thread)
      assert.deepEqual(scorer.stats().pause, { tid: process.pid, sliceUs: 100, maxPauseMs: 1000 });
    } finally {
      await close();
    }
  },
);

test(
  "thread, policy nice: the challenger's thread runs at nice 19 under the normal policy",
  { skip: linux },
  async () => {
    const before = threadSched();
    const { scorer, close } = scorerWithLog(19, 'nice');
    try {
      scorer.setModel(saved, info);
      await until('the challenger', () => scorer.stats().model !== null, START_MS);
      const fresh = [...threadSched()].filter(([tid]) => !before.has(tid));
      const low = fresh.filter(([, t]) => t.nice === 19);
      assert.equal(low.length, 1, JSON.stringify(fresh));
      assert.equal(low[0][1].policy, SCHED_OTHER);
      assert.deepEqual(scorer.stats().priority, { policy: 'normal', nice: 19, tid: low[0][0] });
    } finally {
      await close();
    }
  },
);

test(
  'thread, policy nice, nice 0 leaves the challenger at the priority of the thread that started it',
  { skip: linux },
  async () => {
    const before = threadSched();
    const main = before.get(process.pid)!;
    const { scorer, close } = scorerWithLog(0, 'nice');
    try {
      scorer.setModel(saved, info);
      await until('the challenger', () => scorer.stats().model !== null, START_MS);
      const fresh = [...threadSched()].filter(([tid]) => !before.has(tid));
      assert.ok(fresh.length >= 1);
      for (const [tid, t] of fresh) assert.deepEqual(t, main, `thread ${tid}`);
      assert.equal(scorer.stats().priority?.nice, null);
      assert.equal(scorer.stats().priority?.policy, 'normal');
    } finally {
      await close();
    }
  },
);

/** Scheduling policy and nice value of every thread of process `pid`. */
function processSched(pid: number): { nice: number; policy: number }[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { nice: Number(fields[16]), policy: Number(fields[38]) };
  });
}

/**
 * Whether process `pid` still runs: gone, or a zombie (it has exited; a challenger killed by
 * its parent-death signal after its relay thread was ended stays one until its server exits,
 * as nothing else reaps it), it does not.
 */
function running(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()!.split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * The running processes started as challenger processes for the log at `logPath`: their
 * command line (chrt's, nice's and setpriv's, then node's, as each execs the next) names the
 * script and carries the log's path in its arguments.
 */
function challengerProcesses(script: string, logPath: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (argv.includes(script) && argv.some((a) => a.includes(logPath)) && running(Number(d))) out.push(Number(d));
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

test(
  'process: every thread of the challenger process runs under SCHED_IDLE at nice 19; the relay thread too; no thread of the server changes; closing ends the process',
  { skip: linux },
  async () => {
    const before = threadSched();
    const { scorer, close } = scorerWithLog(undefined, undefined, { isolation: 'process' });
    let child = 0;
    try {
      scorer.setModel(saved, info);
      await until('the challenger', () => scorer.stats().model !== null, START_MS);
      const p = scorer.stats().priority!;
      assert.equal(p.policy, 'idle', JSON.stringify(p));
      assert.equal(p.nice, 19);
      assert.equal(p.note, undefined);
      // the pause protocol: the child process reads this (serving) thread's state itself
      assert.deepEqual(scorer.stats().pause, { tid: process.pid, sliceUs: 100, maxPauseMs: 1000 });
      child = p.tid!;
      assert.notEqual(child, process.pid);
      const threads = processSched(child);
      assert.ok(threads.length >= 4, `V8's helper threads too: ${threads.length}`);
      for (const t of threads) assert.deepEqual(t, { nice: 19, policy: SCHED_IDLE });
      const after = threadSched();
      const fresh = [...after].filter(([tid]) => !before.has(tid));
      const low = fresh.filter(([, t]) => t.policy === SCHED_IDLE);
      assert.equal(low.length, 1, `the relay thread alone: ${JSON.stringify(fresh)}`);
      for (const [t, x] of before) if (after.has(t)) assert.deepEqual(after.get(t), x, `thread ${t}`);
    } finally {
      await close();
    }
    await until('the challenger process to end', () => !running(child), START_MS);
  },
);

const FAULTY_PROCESS = fileURLToPath(new URL('../../test/fixtures/shadow-faulty-process.js', import.meta.url));

test(
  'process: a challenger process stuck in a loop is killed with its relay thread and a new one started',
  { skip: linux },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carprice-shadow-hang-'));
    const pidfile = join(dir, 'pid');
    const { scorer, path, close } = scorerWithLog(undefined, undefined, {
      isolation: 'process',
      processScript: FAULTY_PROCESS,
      timeoutMs: 300,
    });
    try {
      scorer.setModel(saved, { name: 'hang', version: `pidfile:${pidfile}` });
      await until('the challenger', () => scorer.stats().model !== null, START_MS);
      const first = Number(readFileSync(pidfile, 'utf8'));
      assert.ok(running(first));
      assert.deepEqual(challengerProcesses(FAULTY_PROCESS, path), [first]);
      scorer.submit(request('stuck', [unshiftedListings(1, 2)[0]]), 1_700_000_000_000);
      await until('a restart', () => scorer.stats().restarts > 0, 20_000);
      assert.equal(scorer.stats().dropped.timeout, 1);
      // killed by its relay thread or, when the relay was starved past the scorer's grace and
      // ended, by its parent-death signal: either way it no longer runs
      await until('the stuck process to be killed', () => !running(first), START_MS);
      // the new relay thread starts a new challenger process (on a saturated machine it may
      // not yet have run far enough to write its pid: it is found by its command line)
      await until(
        'a new challenger process',
        () => challengerProcesses(FAULTY_PROCESS, path).some((p) => p !== first),
        START_MS,
      );
    } finally {
      await close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
