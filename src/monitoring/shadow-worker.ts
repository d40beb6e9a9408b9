/**
 * The shadow challenger's thread: holds the challenger bundle, prices the requests the
 * serving thread appends to the shared ring (shadow-ring.ts), looked at every `pollMs`, and
 * stores the challenger's rows in the prediction log itself, through a SQLite connection of
 * its own (the log is in WAL mode and made for several writers: the hourly aggregates are
 * additive segments, log-store.ts). Per request, the serving thread only copies the JSON it
 * received into the ring: no message, no clone, no wake-up of this thread; the rows never
 * pass through the thread that answers requests, nor through the log's writer thread (which
 * runs at the server's priority). A slow or failing challenger costs this thread, never the
 * serving one; and the thread lowers its own scheduling priority at start
 * (workerData.policy and nice, Linux: SCHED_IDLE and nice 19 by default), so all the work
 * shadow scoring adds (parsing, pricing, storing) only gets CPU that serving does not want.
 * Its transactions are one batch of rows (tens of milliseconds at most); on a saturated
 * machine one may hold the log's lock while the thread waits for CPU, and the writer thread's
 * champion rows then wait in their bounded queue (dropped and counted past it), never a
 * response.
 *
 * The pricing and storing are shadow-challenger.ts's (shared with the child process of
 * `monitoring.shadow_isolation: process`, whose relay thread, shadow-relay.ts, speaks this
 * same protocol to the serving thread).
 *
 * workerData: the ring, the poll interval, the priority to take, the log's file. Messages
 * in: `model` (a saved bundle and who it is). Out: `model-ready` / `model-failed`. Each
 * batch's counts (listings taken, priced, failed, rows stored, rows not stored) are added to
 * the ring's tally (shadow-ring.ts), which wakes nothing on the serving thread; a batch whose
 * rows could not be stored is answered with a `scored` message instead, carrying the error.
 * (A `scored` message is always understood: the test's misbehaving threads answer that way.)
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ShadowChallenger, type BatchCounts, type ShadowModelInfo } from './shadow-challenger.js';
import { addTally, ShadowRingReader } from './shadow-ring.js';
import { lowerThisThread, type BackgroundPolicy, type ThreadPriority } from './thread-priority.js';
import { pacingFor, type PauseInfo, type ServingThread } from './serving-gate.js';

export type { ShadowModelInfo } from './shadow-challenger.js';

/** What the thread starts with. */
export interface ShadowWorkerData {
  /** The ring the serving thread appends requests to (shadow-ring.ts). */
  ring: SharedArrayBuffer;
  /** Milliseconds between looks at the ring. */
  pollMs: number;
  /**
   * The thread's nice value (0-19; 0 = leave it as it is). On Linux the nice value is per
   * thread, so only this thread gets it; elsewhere setpriority would renice the whole
   * server, so it is not set there.
   */
  nice: number;
  /** `idle`: also SCHED_IDLE (Linux; thread-priority.ts), falling back to the nice value; `nice`: the nice value only. */
  policy: BackgroundPolicy;
  /** The prediction log's SQLite file the rows go to (opened by the log's writer thread first). */
  logPath: string;
  /** Longest wait for the log's write lock (another writer holds it) before a batch's rows are given up. */
  busyTimeoutMs: number;
  /** The relay thread only (shadow-relay.ts): the child process's script (tests substitute one; default shadow-process.js). */
  processScript?: string;
  /**
   * The pause protocol (serving-gate.ts): the serving thread to step aside for (null: none),
   * µs of work between looks at it (0: off) and the longest wait per batch, ms.
   */
  serving: ServingThread | null;
  sliceUs: number;
  maxPauseMs: number;
}

/** The challenger's scheduling as it read it back after setting it (a thread's, or its process's). */
export type ShadowPriority = ThreadPriority;

/** `stop`: the relay thread kills its child process, waits for it and ends (a challenger thread ignores it). */
export type ShadowRequest = { type: 'model'; bundle: unknown; info: ShadowModelInfo } | { type: 'stop' };

export type ShadowReply =
  | { type: 'model-ready'; info: ShadowModelInfo; priority?: ShadowPriority; pause?: PauseInfo }
  | { type: 'model-failed'; info: ShadowModelInfo; message: string }
  | ({ type: 'scored' } & BatchCounts);

const port = parentPort!;
const data = workerData as ShadowWorkerData;
const ring = new ShadowRingReader(data.ring);
const pacing = pacingFor(data);
const challenger = new ShadowChallenger(data.logPath, data.busyTimeoutMs, pacing);

/**
 * Get out of the serving thread's way (thread-priority.ts): SCHED_IDLE, so a serving thread
 * that wakes takes the core at once, and nice 19, so the thread gets only the CPU that the
 * serving thread and the rest of the machine do not want; the challenger's work waits
 * instead of delaying responses.
 */
const priority = lowerThisThread({ policy: data.policy, nice: data.nice });

/** Price what the ring holds, store the rows, report the counts (in the ring's tally; by message with an error). */
function poll(): void {
  if (!challenger.ready) return; // requests wait in the ring until a model is loaded
  const items = ring.take();
  if (items.length === 0) return;
  const c = challenger.score(items);
  // the counts go to the ring's tally, which wakes nothing on the serving thread; a batch
  // whose rows could not be stored goes as a message, with its error (logged there)
  if (c.error === undefined) addTally(data.ring, c);
  else port.postMessage({ type: 'scored', ...c } satisfies ShadowReply);
}

setInterval(poll, data.pollMs);

port.on('message', (m: ShadowRequest) => {
  if (m.type !== 'model') return;
  try {
    challenger.load(m.bundle, m.info);
    port.postMessage({ type: 'model-ready', info: m.info, priority, pause: pacing.info } satisfies ShadowReply);
  } catch (e) {
    port.postMessage({ type: 'model-failed', info: m.info, message: (e as Error).message } satisfies ShadowReply);
  }
});
