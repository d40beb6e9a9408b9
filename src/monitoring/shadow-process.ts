/**
 * The shadow challenger as a child process of the server (`monitoring.shadow_isolation:
 * process`): started by the challenger's relay thread (shadow-relay.ts) under SCHED_IDLE
 * (`chrt --idle 0`) before node itself starts, so every thread of it, V8's garbage
 * collector and compiler threads included, runs at idle priority; and with a parent-death
 * signal (`setpriv --pdeathsig KILL`), so it dies with the thread that started it (the
 * relay terminated by the server's watchdog, or the server gone) even when it is stuck in a
 * loop. It has its own memory map, heap and allocator: nothing it does can hold a lock the
 * serving thread waits for.
 *
 * stdin: frames of [u8 kind][u32 length, little-endian][payload]; kind 1 = the challenger
 * (UTF-8 JSON `{bundle, info}`), kind 2 = requests in the shared ring's record format
 * (shadow-ring.ts), as the relay took them. stdout: one JSON line per reply (ShadowReply:
 * `model-ready` with the priority read back, `model-failed`, `scored` per batch). It exits
 * when stdin closes. argv[2]: JSON `{logPath, busyTimeoutMs, policy, nice}`.
 */
import { ShadowChallenger } from './shadow-challenger.js';
import { decodeRecords } from './shadow-ring.js';
import { readSchedStat, type BackgroundPolicy, type ThreadPriority } from './thread-priority.js';
import { pacingFor } from './serving-gate.js';
import type { ShadowReply, ShadowRequest, ShadowWorkerData } from './shadow-worker.js';

export const FRAME_MODEL = 1;
export const FRAME_RECORDS = 2;

interface ProcessArgs extends Pick<ShadowWorkerData, 'serving' | 'sliceUs' | 'maxPauseMs'> {
  logPath: string;
  busyTimeoutMs: number;
  policy: BackgroundPolicy;
  nice: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ProcessArgs;
// the pause protocol (serving-gate.ts): the server's serving thread, read from /proc by this process
const pacing = pacingFor({
  serving: args.serving ?? null,
  sliceUs: args.sliceUs ?? 0,
  maxPauseMs: args.maxPauseMs ?? 0,
});
const challenger = new ShadowChallenger(args.logPath, args.busyTimeoutMs, pacing);

/** This process's scheduling as the kernel reports it (set by chrt and nice before node started). */
function priority(): ThreadPriority {
  const now = readSchedStat('/proc/self/stat');
  const wanted = args.policy === 'idle' ? 'idle' : 'normal';
  return {
    policy: now?.policy ?? null,
    nice: now?.nice ?? null,
    tid: process.pid,
    ...(now && now.policy !== wanted ? { note: `${wanted} asked, the process runs under ${now.policy}` } : {}),
  };
}

function reply(r: ShadowReply): void {
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

let buf: Buffer = Buffer.alloc(0);
process.stdin.on('data', (chunk: Buffer) => {
  buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
  while (buf.length >= 5) {
    const len = buf.readUInt32LE(1);
    if (buf.length < 5 + len) break;
    const kind = buf[0];
    const body = buf.subarray(5, 5 + len);
    buf = buf.subarray(5 + len);
    if (kind === FRAME_MODEL) {
      const m = JSON.parse(body.toString('utf8')) as ShadowRequest;
      if (m.type !== 'model') continue;
      try {
        challenger.load(m.bundle, m.info);
        reply({ type: 'model-ready', info: m.info, priority: priority(), pause: pacing.info });
      } catch (e) {
        reply({ type: 'model-failed', info: m.info, message: (e as Error).message });
      }
    } else if (kind === FRAME_RECORDS) {
      const { items } = decodeRecords(body);
      reply({ type: 'scored', ...challenger.score(items) });
    }
  }
  if (buf.length === 0) buf = Buffer.alloc(0);
});
process.stdin.on('end', () => process.exit(0));
