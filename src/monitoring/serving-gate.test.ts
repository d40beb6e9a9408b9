/**
 * The shadow challenger's pause protocol (serving-gate.ts) against a real thread whose state
 * the kernel reports: a thread spinning is busy and the gate waits (up to its bound) until it
 * sleeps; a sleeping one is not; an unreadable thread turns the gate off with the reason. And
 * the challenger itself (shadow-challenger.ts) waits while the watched thread is busy, still
 * storing every row at the same prices as without the protocol.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { iterateRecords, openLogDatabase } from './log-store.js';
import { referenceBundle, unshiftedListings } from '../../test/helpers/monitoring.js';
import { pacingFor, ServingGate, servingThread } from './serving-gate.js';
import { ShadowChallenger } from './shadow-challenger.js';
import type { RingItem } from './shadow-ring.js';

const linux = process.platform !== 'linux';

/**
 * A thread that spins while ctl[0] is 1 and sleeps (Atomics.wait) while it is 0; its id is
 * posted once it runs.
 */
async function controllable(): Promise<{ tid: number; spin: (on: boolean) => void; stop: () => Promise<void> }> {
  const ctl = new Int32Array(new SharedArrayBuffer(8));
  const w = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const { readlinkSync } = require('node:fs');
     const ctl = workerData;
     parentPort.postMessage(Number(readlinkSync('/proc/thread-self').split('/').pop()));
     for (;;) {
       if (Atomics.load(ctl, 1) === 1) break;
       if (Atomics.load(ctl, 0) === 1) continue; // spin
       Atomics.wait(ctl, 0, 0, 50);
     }`,
    { eval: true, workerData: ctl },
  );
  const tid = await new Promise<number>((res) => w.once('message', res));
  return {
    tid,
    spin: (on) => {
      Atomics.store(ctl, 0, on ? 1 : 0);
      Atomics.notify(ctl, 0);
    },
    stop: async () => {
      Atomics.store(ctl, 1, 1);
      Atomics.store(ctl, 0, 0);
      Atomics.notify(ctl, 0);
      await w.terminate();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  'the gate sees a spinning thread as busy and a sleeping one as not; it waits while busy, up to its bound',
  { skip: linux },
  async () => {
    const t = await controllable();
    const gate = new ServingGate({ pid: process.pid, tid: t.tid });
    try {
      assert.equal(gate.on, true, gate.note ?? '');
      await sleep(20);
      assert.equal(gate.busy(), false, `a sleeping thread: state ${gate.state()}`);
      assert.ok(gate.waitIdle(1000) < 50, 'no wait for a sleeping thread');
      t.spin(true);
      await until(() => gate.busy(), 'the thread to spin');
      // bounded: the thread never stops spinning meanwhile
      const waited = gate.waitIdle(100);
      assert.ok(waited >= 100 && waited < 1000, `waited ${waited} ms (bound 100)`);
      t.spin(false);
      await until(() => !gate.busy(), 'the thread to sleep');
      const after = gate.waitIdle(2000);
      assert.ok(after < 1000, `waited ${after} ms for a thread that stopped spinning`);
    } finally {
      gate.close();
      await t.stop();
    }
  },
);

test(
  'a thread whose state cannot be read turns the gate off, with the reason; its waits are none',
  { skip: linux },
  () => {
    const gate = new ServingGate({ pid: process.pid, tid: 999_999_999 });
    assert.equal(gate.on, false);
    assert.match(gate.note ?? '', /cannot read \/proc\/\d+\/task\/999999999\/stat/);
    assert.equal(gate.waitIdle(1000), 0);
    const off = pacingFor({ serving: { pid: process.pid, tid: 999_999_999 }, sliceUs: 100, maxPauseMs: 50 });
    assert.equal(off.info.tid, null);
    assert.equal(off.info.sliceUs, 0);
    assert.match(off.info.note ?? '', /cannot read/);
    const asked = pacingFor({ serving: servingThread(), sliceUs: 100, maxPauseMs: 50 });
    assert.deepEqual(asked.info, { tid: process.pid, sliceUs: 100, maxPauseMs: 50 });
    asked.gate.close();
    const zero = pacingFor({ serving: servingThread(), sliceUs: 0, maxPauseMs: 50 });
    assert.deepEqual(zero.info, { tid: null, sliceUs: 0, maxPauseMs: 50 });
  },
);

async function until(ok: () => boolean, what: string, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test(
  'the challenger waits while the serving thread is busy (at most maxPauseMs per batch), and stores every row at the same prices',
  { skip: linux },
  async () => {
    const bundle = referenceBundle({ n: 400, seed: 7, algo: 'blend' }).toJSON();
    const listings = unshiftedListings(40, 3);
    const items: RingItem[] = listings.map((l, i) => ({
      requestId: `r${i}`,
      route: '/predict',
      ts: Date.now(),
      listings: 1,
      json: JSON.stringify(l),
      shape: 'listing',
    }));
    const dir = mkdtempSync(join(tmpdir(), 'carprice-serving-gate-'));
    const t = await controllable();
    try {
      const prices = (path: string) => {
        const db = openLogDatabase(path, { readonly: true });
        try {
          return [...iterateRecords(db)].map((r) => [r.requestId, r.price]).sort();
        } finally {
          db.close();
        }
      };
      const run = (name: string, sliceUs: number) => {
        const path = join(dir, `${name}.db`);
        openLogDatabase(path).close();
        const gate = new ServingGate({ pid: process.pid, tid: t.tid });
        const c = new ShadowChallenger(path, 1000, { gate, sliceUs, maxPauseMs: 150 });
        c.load(bundle, { name: 'challenger', version: '1' });
        const counts = c.score(items);
        gate.close();
        return { counts, prices: prices(path) };
      };
      const plain = run('plain', 0);
      assert.equal(plain.counts.logged, 40);
      assert.equal(plain.counts.pausedMs, 0);
      t.spin(true);
      const watch = new ServingGate({ pid: process.pid, tid: t.tid });
      await until(() => watch.busy(), 'the thread to spin');
      watch.close();
      const paced = run('paced', 1);
      assert.ok(
        paced.counts.pausedMs! >= 150 && paced.counts.pausedMs! < 1000,
        `paused ${paced.counts.pausedMs} ms (bound 150)`,
      );
      assert.ok(paced.counts.ms >= paced.counts.pausedMs!);
      assert.equal(paced.counts.logged, 40);
      assert.deepEqual(paced.prices, plain.prices, 'the same prices, every row stored');
      t.spin(false);
      await sleep(20);
      const idle = run('idle', 1);
      assert.ok(idle.counts.pausedMs! < 100, `paused ${idle.counts.pausedMs} ms beside a sleeping thread`);
      assert.deepEqual(idle.prices, plain.prices);
    } finally {
      await t.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

/**
 * The pause protocol never waits while holding the log's write lock: every look at the
 * serving thread (each of them a place the challenger may sleep up to its bound) finds the
 * lock free, checked by a second connection taking it at once (BEGIN IMMEDIATE, no busy
 * wait), so the server's own log writer is never kept waiting by a pause.
 */
test(
  'the challenger looks at the serving thread only outside its transactions (the log write lock is free at every look)',
  { skip: linux },
  async () => {
    const bundle = referenceBundle({ n: 400, seed: 7, algo: 'blend' }).toJSON();
    const items: RingItem[] = unshiftedListings(50, 4).map((l, i) => ({
      requestId: `q${i}`,
      route: '/predict',
      ts: Date.now(),
      listings: 1,
      json: JSON.stringify(l),
      shape: 'listing',
    }));
    const dir = mkdtempSync(join(tmpdir(), 'carprice-serving-gate-lock-'));
    const t = await controllable(); // sleeping: every look returns at once, so the challenger looks at every slice
    try {
      const path = join(dir, 'log.db');
      openLogDatabase(path).close();
      const other = openLogDatabase(path, { busyTimeoutMs: 0 });
      const looks: boolean[] = [];
      class ProbingGate extends ServingGate {
        override waitIdle(maxMs: number): number {
          try {
            other.exec('BEGIN IMMEDIATE');
            other.exec('ROLLBACK');
            looks.push(true);
          } catch {
            looks.push(false); // the challenger holds the write lock while it may wait
          }
          return super.waitIdle(maxMs);
        }
      }
      const gate = new ProbingGate({ pid: process.pid, tid: t.tid });
      const c = new ShadowChallenger(path, 1000, { gate, sliceUs: 1, maxPauseMs: 1000 });
      c.load(bundle, { name: 'challenger', version: '1' });
      const counts = c.score(items);
      gate.close();
      other.close();
      assert.equal(counts.logged, 50);
      assert.equal(counts.notLogged, 0);
      // 50 rows: looks while parsing and pricing, and between the stored pieces
      assert.ok(looks.length > 15, `${looks.length} looks`);
      assert.deepEqual(
        looks.filter((free) => !free).length,
        0,
        `${looks.filter((free) => !free).length} of ${looks.length} looks found the write lock held`,
      );
      const db = openLogDatabase(path, { readonly: true });
      try {
        assert.equal([...iterateRecords(db)].length, 50);
      } finally {
        db.close();
      }
    } finally {
      await t.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
