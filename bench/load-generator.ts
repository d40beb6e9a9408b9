/**
 * A fixed-rate HTTP/1.1 load generator for the latency targets (p99 at 1,000 requests/s):
 * `connections` keep-alive sockets, one request in flight on each, requests due every
 * 1/rate s (open loop). Latency is measured with microsecond resolution from the moment a
 * request was due (as this process saw it) to the last byte of its answer, so a request that
 * waited for a free connection because the server was slow is charged that wait (no
 * coordinated omission, which a closed-loop tool hides), while the generator's own timer
 * lateness is not. Requests are written as prepared bytes and answers parsed by
 * Content-Length only, so the generator costs little CPU beside the server it measures.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

export interface FixedRateOptions {
  host: string;
  port: number;
  /** POST bodies, used in turn. */
  bodies: readonly string[];
  path?: string;
  /** Requests per second. */
  rate: number;
  durationS: number;
  connections?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /**
   * Seconds at the start whose requests are sent but not counted (the sockets' and the
   * server's first moments of a run); the run lasts `durationS` after them. Default 0.
   */
  warmupS?: number;
  /** Also return every counted latency (ms), e.g. to pool runs. */
  keepLatencies?: boolean;
}

export interface LatencyResult {
  /** Requests answered. */
  total: number;
  /** Answers with a status other than 2xx. */
  non2xx: number;
  /** Connection errors and requests unanswered at the end. */
  errors: number;
  /** Achieved requests/s. */
  rps: number;
  /** Milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  /** CPU seconds this process (the generator) spent during the run, user + system. */
  generatorCpuS?: number;
  /** Every counted latency (ms), in answer order, when asked for (`keepLatencies`). */
  latencies?: Float64Array;
}

interface Conn {
  socket: Socket;
  busy: boolean;
  started: number;
  /** The request's place in the run (send order is due order: waiting requests go first). */
  seq: number;
  buf: Buffer;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** Summarise latencies (ms) of `total` answers over `seconds`. */
export function summarise(lat: Float64Array, seconds: number, non2xx: number, errors: number): LatencyResult {
  const s = Float64Array.from(lat).sort();
  let sum = 0;
  for (const x of s) sum += x;
  return {
    total: s.length,
    non2xx,
    errors,
    rps: s.length / seconds,
    p50: percentile(s, 0.5),
    p90: percentile(s, 0.9),
    p99: percentile(s, 0.99),
    p999: percentile(s, 0.999),
    max: s.length ? s[s.length - 1] : NaN,
    mean: s.length ? sum / s.length : NaN,
  };
}

/** Run the load; resolves with the latency distribution. */
export async function fixedRate(o: FixedRateOptions): Promise<LatencyResult> {
  const path = o.path ?? '/predict';
  const nConn = o.connections ?? 8;
  const extra = Object.entries(o.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const requests = o.bodies.map((b) =>
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nHost: ${o.host}:${o.port}\r\nContent-Type: application/json\r\n${extra}Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`,
    ),
  );
  const skip = Math.round(o.rate * (o.warmupS ?? 0)); // requests due in the warm-up: sent, not counted
  const total = skip + Math.round(o.rate * o.durationS);
  const lat = new Float64Array(total - skip);
  let counted = 0;
  let answered = 0;
  let non2xx = 0;
  let errors = 0;
  let next = 0; // next request index to become due
  const waiting: number[] = []; // start times of due requests with no free connection
  let sentN = 0;
  const conns: Conn[] = [];
  let finish: (() => void) | undefined;
  const done = new Promise<void>((r) => (finish = r));

  const send = (c: Conn, started: number) => {
    c.busy = true;
    c.started = started;
    c.seq = sentN;
    c.socket.write(requests[sentN++ % requests.length]);
  };
  const onData = (c: Conn, chunk: Buffer) => {
    c.buf = c.buf.length ? Buffer.concat([c.buf, chunk]) : chunk;
    for (;;) {
      const end = c.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = c.buf.subarray(0, end).toString('latin1');
      const m = /content-length:\s*(\d+)/i.exec(head);
      const len = m ? Number(m[1]) : 0;
      if (c.buf.length < end + 4 + len) return;
      const status = Number(head.slice(9, 12));
      c.buf = c.buf.subarray(end + 4 + len);
      if (!c.busy) continue;
      const now = performance.now();
      if (c.seq >= skip && counted < lat.length) {
        lat[counted++] = now - c.started;
        if (status < 200 || status >= 300) non2xx++;
      }
      answered++;
      c.busy = false;
      if (waiting.length) send(c, waiting.shift()!);
      if (answered + errors >= total) finish?.();
    }
  };

  await Promise.all(
    Array.from(
      { length: nConn },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect({ host: o.host, port: o.port, noDelay: true }, () => resolve());
          const c: Conn = { socket, busy: false, started: 0, seq: 0, buf: Buffer.alloc(0) };
          socket.on('data', (d: Buffer) => onData(c, d));
          socket.on('error', (e) => {
            if (!conns.includes(c)) reject(e);
            if (c.busy) {
              errors++;
              c.busy = false;
              if (answered + errors >= total) finish?.();
            }
          });
          conns.push(c);
        }),
    ),
  );

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const interval = 1000 / o.rate;
  const tick = () => {
    const now = performance.now();
    // every request due by now: on a free connection at once, else it waits (its clock runs)
    while (next < total && t0 + next * interval <= now) {
      next++;
      const free = conns.find((c) => !c.busy && !c.socket.destroyed);
      if (free) send(free, now);
      else waiting.push(now);
    }
    if (next < total) timer = setTimeout(tick, Math.max(0, t0 + next * interval - performance.now()));
  };
  let timer = setTimeout(tick, 0);
  // a server that stops answering: give up 10 s after the last request was due
  const guard = setTimeout(() => finish?.(), ((o.warmupS ?? 0) + o.durationS) * 1000 + 10_000);
  await done;
  const seconds = (performance.now() - t0) / 1000 - (o.warmupS ?? 0);
  const cpu = process.cpuUsage(cpu0);
  clearTimeout(timer);
  clearTimeout(guard);
  for (const c of conns) c.socket.destroy();
  errors += Math.max(0, total - answered - errors);
  const kept = lat.subarray(0, counted);
  return {
    ...summarise(kept, seconds, non2xx, errors),
    generatorCpuS: (cpu.user + cpu.system) / 1e6,
    ...(o.keepLatencies ? { latencies: kept } : {}),
  };
}

/** `p50 0.41 ms  p99 1.20 ms  p99.9 3.10 ms` */
export function latencyText(r: LatencyResult): string {
  const f = (x: number) => x.toFixed(2).padStart(6);
  return `${r.rps.toFixed(0).padStart(5)} req/s   p50 ${f(r.p50)} ms   p99 ${f(r.p99)} ms   p99.9 ${f(r.p999)} ms   max ${f(r.max)} ms   (${r.total} requests, ${r.non2xx} non-2xx, ${r.errors} errors)`;
}

/** What a closed-loop generator (autocannon or wrk) measured of one POST /predict load run (latencies in ms). */
export interface AutocannonLoad {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
  /** The generator that ran: 'autocannon' or 'wrk'. */
  tool?: string;
}

/**
 * POST /predict cycling through `bodies` with autocannon, 8 connections, no pipelining: for
 * `amount` requests, else for `duration` seconds (default 10); `overallRate` caps the rate.
 */
export async function autocannonPredict(
  url: string,
  bodies: string[],
  o: { duration?: number; amount?: number; overallRate?: number },
): Promise<AutocannonLoad> {
  const r = await autocannon({
    url,
    connections: 8,
    pipelining: 1,
    ...(o.amount ? { amount: o.amount } : { duration: o.duration ?? 10 }),
    ...(o.overallRate ? { overallRate: o.overallRate } : {}),
    requests: bodies.map((body) => ({
      method: 'POST' as const,
      path: '/predict',
      headers: { 'content-type': 'application/json' },
      body,
    })),
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    total: r.requests.total,
    tool: 'autocannon',
  };
}

/** wrk's path when it is installed (Debian package `wrk`), else null. */
export function findWrk(): string | null {
  for (const p of ['/usr/bin/wrk', '/usr/local/bin/wrk']) {
    const r = spawnSync(p, ['-v'], { encoding: 'utf8' });
    // wrk -v prints its version and exits 1
    if (!r.error && /^wrk /m.test(`${r.stdout}${r.stderr}`)) return p;
  }
  return null;
}

/** `635.00us` / `2.34ms` / `1.20s` -> milliseconds. */
function wrkMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return NaN;
  const x = Number(m[1]);
  return m[2] === 'us' ? x / 1000 : m[2] === 'ms' ? x : m[2] === 's' ? x * 1000 : x * 60_000;
}

/** Parse the text `wrk --latency` prints. */
export function parseWrk(out: string): AutocannonLoad {
  const num = (re: RegExp) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : NaN;
  };
  const pct = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? wrkMs(m[1]) : NaN;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: pct('50'),
    p99: pct('99'),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
    errors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    total: num(/(\d+) requests in/),
    tool: 'wrk',
  };
}

/**
 * POST /predict cycling through `bodies` with wrk (one thread, 8 connections, `duration`
 * seconds): the same load as autocannonPredict from a generator written in C, which takes
 * a small share of the CPU the server needs (autocannon, in Node, took about as much as the
 * server on the 2-core bench machine, so a flat-out figure measured the two together).
 */
export async function wrkPredict(
  wrk: string,
  url: string,
  bodies: string[],
  o: { duration: number },
): Promise<AutocannonLoad> {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-wrk-'));
  try {
    const bodyFile = join(dir, 'bodies.txt');
    writeFileSync(bodyFile, bodies.map((b) => b.replace(/\n/g, ' ')).join('\n') + '\n');
    const script = join(dir, 'predict.lua');
    writeFileSync(
      script,
      [
        'local bodies = {}',
        `for line in io.lines(${JSON.stringify(bodyFile)}) do bodies[#bodies + 1] = line end`,
        'local i = 0',
        'local headers = { ["Content-Type"] = "application/json" }',
        'request = function()',
        '  i = i % #bodies + 1',
        '  return wrk.format("POST", "/predict", headers, bodies[i])',
        'end',
        '',
      ].join('\n'),
    );
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn(wrk, ['-t1', '-c8', `-d${o.duration}s`, '--latency', '-s', script, url], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.stderr.on('data', (d: Buffer) => (text += d.toString()));
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
    });
    return parseWrk(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A flat-out POST /predict run for `duration` seconds: wrk when installed (`wrk` given),
 * else autocannon; the result says which ran.
 */
export function flatOut(wrk: string | null, url: string, bodies: string[], duration: number): Promise<AutocannonLoad> {
  return wrk ? wrkPredict(wrk, url, bodies, { duration }) : autocannonPredict(url, bodies, { duration });
}
