/**
 * lowerThisThread in a real worker thread: the thread moves itself to SCHED_IDLE at nice 19,
 * read back from outside in /proc/self/task/<tid>/stat (fields 41 and 19); without chrt on
 * the PATH it stays at nice 19 under the normal policy and says why; nothing else changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { ThreadPriority } from './thread-priority.js';

const linux = process.platform === 'linux' ? false : 'per-thread scheduling is Linux only';

/** Field 41 (policy) and 19 (nice) of a thread of this process. */
function sched(tid: number): { policy: number; nice: number } {
  const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { policy: Number(f[38]), nice: Number(f[16]) };
}

/** Run lowerThisThread(ask) in a fresh worker; its answer and its thread's stat while it still runs. */
async function inWorker(
  ask: { policy: 'idle' | 'nice'; nice: number },
  env?: NodeJS.ProcessEnv,
): Promise<{ got: ThreadPriority; stat: { policy: number; nice: number } }> {
  const url = new URL('./thread-priority.js', import.meta.url).href;
  const w = new Worker(
    `const { parentPort } = require('node:worker_threads');
     import(${JSON.stringify(url)}).then((m) => {
       parentPort.postMessage(m.lowerThisThread(${JSON.stringify(ask)}));
       parentPort.once('message', () => process.exit(0));
     });`,
    { eval: true, ...(env ? { env } : {}) },
  );
  try {
    const got = await new Promise<ThreadPriority>((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
    const stat = sched(got.tid!);
    w.postMessage('done');
    return { got, stat };
  } finally {
    await w.terminate();
  }
}

test(
  'idle: the thread runs under SCHED_IDLE (5) at nice 19; the main thread is untouched',
  { skip: linux },
  async () => {
    const main = sched(process.pid);
    const { got, stat } = await inWorker({ policy: 'idle', nice: 19 });
    assert.deepEqual(stat, { policy: 5, nice: 19 });
    assert.equal(got.policy, 'idle');
    assert.equal(got.nice, 19);
    assert.equal(got.note, undefined);
    assert.notEqual(got.tid, process.pid);
    assert.deepEqual(sched(process.pid), main);
  },
);

test(
  'idle without chrt: the thread keeps the normal policy at its nice value and says why',
  { skip: linux },
  async () => {
    const { got, stat } = await inWorker({ policy: 'idle', nice: 19 }, { ...process.env, PATH: '/nonexistent' });
    assert.deepEqual(stat, { policy: 0, nice: 19 });
    assert.equal(got.policy, 'normal');
    assert.equal(got.nice, 19);
    assert.match(got.note ?? '', /SCHED_IDLE: cannot run chrt \(util-linux\): ENOENT/);
  },
);

test('nice: only the nice value changes', { skip: linux }, async () => {
  const { got, stat } = await inWorker({ policy: 'nice', nice: 10 });
  assert.deepEqual(stat, { policy: 0, nice: 10 });
  assert.deepEqual(
    { policy: got.policy, nice: got.nice, note: got.note },
    { policy: 'normal', nice: 10, note: undefined },
  );
});
