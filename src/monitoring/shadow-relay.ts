/**
 * The shadow challenger's relay thread (`monitoring.shadow_isolation: process`): reads the
 * shared ring the serving thread appends requests to (as shadow-worker.ts does), and hands
 * what it took, as the ring's bytes, to the challenger's child process (shadow-process.ts)
 * through its stdin, at most one batch in flight: while the child works on a batch, new
 * requests wait in the ring, and a full ring is the serving thread's queue_full, as with
 * a slow challenger thread. It speaks the worker protocol to the serving thread
 * (shadow-scorer.ts), so the watchdog, the restarts and the counts are the same: the
 * child's counts go to the ring's tally (its other replies are passed on), and a child that
 * dies takes the relay with it (the scorer counts its pending listings and restarts both). The child is started under SCHED_IDLE and
 * nice (chrt, nice) with a parent-death signal (setpriv), all of util-linux and coreutils;
 * a wrapper that is missing is left out and named in the priority note.
 *
 * The relay itself moves to SCHED_IDLE too, once it has probed for those wrappers and started
 * the child (processes of their own, which would otherwise inherit the idle priority and wait
 * for a core on a busy machine); its work per batch is a copy and a write. When the relay is
 * ended without having killed its child (the scorer's grace of a second passed: a relay
 * starved at idle priority on a saturated machine), the child dies of its parent-death signal
 * and stays a zombie, holding no memory, until the server exits (no other thread reaps it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { addTally, ShadowRingReader } from './shadow-ring.js';
import { lowerThisThread } from './thread-priority.js';
import type { ShadowReply, ShadowRequest, ShadowWorkerData } from './shadow-worker.js';

const FRAME_MODEL = 1;
const FRAME_RECORDS = 2;
/** Most ring bytes handed over in one batch. */
const MAX_BATCH_BYTES = 1 << 20;

const port = parentPort!;
const data = workerData as ShadowWorkerData;
const ring = new ShadowRingReader(data.ring);

/** Whether `cmd` runs here (util-linux's chrt and setpriv, coreutils' nice). */
function available(cmd: string): boolean {
  const r = spawnSync(cmd, ['--version'], { stdio: 'ignore', timeout: 10_000 });
  return !r.error && r.status === 0;
}

const notes: string[] = [];
const argv: string[] = [];
if (process.platform === 'linux') {
  if (data.policy === 'idle') {
    if (available('chrt')) argv.push('chrt', '--idle', '0');
    else notes.push('SCHED_IDLE: chrt (util-linux) not found');
  }
  if (data.nice > 0) {
    if (available('nice')) argv.push('nice', '-n', String(data.nice));
    else notes.push('nice: the nice command (coreutils) not found');
  }
  if (available('setpriv')) argv.push('setpriv', '--pdeathsig', 'KILL', '--');
  else notes.push('setpriv (util-linux) not found: a stuck challenger process outlives the server');
}
const script = data.processScript ?? fileURLToPath(new URL('./shadow-process.js', import.meta.url));
const args = JSON.stringify({
  logPath: data.logPath,
  busyTimeoutMs: data.busyTimeoutMs,
  policy: data.policy,
  nice: data.nice,
  serving: data.serving,
  sliceUs: data.sliceUs,
  maxPauseMs: data.maxPauseMs,
});
const cmd = [...argv, process.execPath, script, args];
const child = spawn(cmd[0], cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
// lowered only now: the probes above and the child's start (fork, and chrt until it moves
// itself to SCHED_IDLE) are processes of their own that would inherit the idle priority and,
// on a busy machine, wait long for a core (a restart with them)
lowerThisThread({ policy: data.policy, nice: data.nice });

let ready = false;
let inFlight = false;
let stderrTail = '';
child.stderr.setEncoding('utf8');
child.stderr.on('data', (s: string) => {
  stderrTail = (stderrTail + s).slice(-2000);
});
child.stdin.on('error', () => {
  // the child is gone: its exit says why
});

function frame(kind: number, payload: Uint8Array): void {
  const head = Buffer.alloc(5);
  head[0] = kind;
  head.writeUInt32LE(payload.length, 1);
  child.stdin.write(head);
  child.stdin.write(payload);
}

let lines = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (s: string) => {
  lines += s;
  let nl: number;
  while ((nl = lines.indexOf('\n')) >= 0) {
    const line = lines.slice(0, nl);
    lines = lines.slice(nl + 1);
    let m: ShadowReply;
    try {
      m = JSON.parse(line) as ShadowReply;
    } catch {
      continue; // not a reply (something else the child printed): ignored
    }
    if (m.type === 'model-ready') {
      ready = true;
      const p = m.priority;
      port.postMessage({
        ...m,
        ...(p
          ? { priority: { ...p, ...(notes.length ? { note: [p.note, ...notes].filter(Boolean).join('; ') } : {}) } }
          : {}),
      } satisfies ShadowReply);
    } else if (m.type === 'scored') {
      inFlight = false;
      // the counts go to the ring's tally, which wakes nothing on the serving thread; a batch
      // whose rows could not be stored goes as a message, with its error (logged there)
      if (m.error === undefined) addTally(data.ring, m);
      else port.postMessage(m);
    } else {
      if (m.type === 'model-failed') ready = false;
      port.postMessage(m);
    }
  }
});

let stopping = false;
child.on('exit', (code, signal) => {
  if (stopping) process.exit(0); // ends this thread: the child is reaped
  throw new Error(
    `the shadow challenger's process exited (${signal ?? `code ${code}`})${stderrTail ? `: ${stderrTail.trim()}` : ''}`,
  );
});
child.on('error', (e) => {
  throw new Error(`the shadow challenger's process could not start: ${e.message}`);
});

setInterval(() => {
  if (!ready || inFlight) return; // requests wait in the ring
  const bytes = ring.takeBytes(MAX_BATCH_BYTES);
  if (!bytes) return;
  inFlight = true;
  frame(FRAME_RECORDS, bytes);
}, data.pollMs);

port.on('message', (m: ShadowRequest) => {
  if (m.type === 'stop') {
    stopping = true;
    ready = false;
    if (child.exitCode !== null || child.signalCode !== null) process.exit(0);
    child.kill('SIGKILL');
    return;
  }
  ready = false;
  frame(FRAME_MODEL, Buffer.from(JSON.stringify(m)));
});
