/**
 * The local load balancer of blue/green deployments: one HTTP listener (the public port,
 * :8000 by default) forwarding every request to the colour that serves, switched
 * atomically by a control call. Like an ALB target-group swap:
 * - a request is assigned to the active colour when it arrives; requests in flight on the
 *   old colour finish there (the old process is kept for a drain period);
 * - request bodies are buffered (bounded), so a request whose upstream connection fails
 *   before any response byte (a process stopping, a reset keep-alive socket) is retried
 *   once on the other live colour instead of failing;
 * - every response carries `x-carprice-slot` (the colour that answered);
 * - per-colour counters (requests, 5xx, proxy errors) feed the bake-window health gate.
 * The control routes (/_carprice/lb/...) answer only on loopback with the bearer token.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { COLORS, type Color } from './state.js';

export interface UpstreamStats {
  requests: number;
  responses5xx: number;
  proxyErrors: number;
  retriedAway: number;
}

export interface LoadBalancerSnapshot {
  active: Color | null;
  upstreams: Record<Color, { port: number | null; stats: UpstreamStats }>;
}

export interface LoadBalancerOptions {
  host: string;
  port: number;
  controlToken: string;
  /** Initial routing (a restarted balancer resumes from the saved state). */
  active?: Color | null;
  ports?: Partial<Record<Color, number>>;
  /** Largest request body forwarded, in bytes (default 10 MiB). */
  maxBodyBytes?: number;
}

export interface RunningLoadBalancer {
  readonly url: string;
  readonly port: number;
  snapshot(): LoadBalancerSnapshot;
  switchTo(color: Color, port: number): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);
const RETRIABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN']);

function emptyStats(): UpstreamStats {
  return { requests: 0, responses5xx: 0, proxyErrors: 0, retriedAway: 0 };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function isLoopback(addr: string | undefined): boolean {
  return addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1';
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Starts the balancer; resolves once it listens. */
export async function startLoadBalancer(opts: LoadBalancerOptions): Promise<RunningLoadBalancer> {
  const maxBody = opts.maxBodyBytes ?? 10 * 1024 * 1024;
  let active: Color | null = opts.active ?? null;
  const ports: Record<Color, number | null> = { blue: opts.ports?.blue ?? null, green: opts.ports?.green ?? null };
  const stats: Record<Color, UpstreamStats> = { blue: emptyStats(), green: emptyStats() };
  const agents: Record<Color, Agent> = {
    blue: new Agent({ keepAlive: true, maxSockets: 256 }),
    green: new Agent({ keepAlive: true, maxSockets: 256 }),
  };

  const snapshot = (): LoadBalancerSnapshot => ({
    active,
    upstreams: {
      blue: { port: ports.blue, stats: { ...stats.blue } },
      green: { port: ports.green, stats: { ...stats.green } },
    },
  });

  const switchTo = (color: Color, port: number): void => {
    if (ports[color] !== port) {
      // A new process on this colour: forget its predecessor's sockets and counters.
      agents[color].destroy();
      agents[color] = new Agent({ keepAlive: true, maxSockets: 256 });
      stats[color] = emptyStats();
    }
    ports[color] = port;
    active = color;
  };

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, color: Color, retried: boolean): void {
    const port = ports[color];
    if (port === null) {
      sendJson(res, 503, { error: 'no deployment is serving yet', detail: 'run `carprice deploy` first' });
      return;
    }
    stats[color].requests++;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    headers['host'] = `127.0.0.1:${port}`;
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
    headers['content-length'] = String(body.length);
    const up = httpRequest(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers, agent: agents[color] },
      (upRes) => {
        const status = upRes.statusCode ?? 502;
        if (status >= 500) stats[color].responses5xx++;
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(upRes.headers))
          if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out[k] = v;
        out['x-carprice-slot'] = color;
        res.writeHead(status, out);
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      },
    );
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const other: Color = color === 'blue' ? 'green' : 'blue';
      if (!retried && RETRIABLE.has(err.code ?? '') && ports[other] !== null) {
        stats[color].retriedAway++;
        forward(req, res, body, other, true);
        return;
      }
      stats[color].proxyErrors++;
      sendJson(res, 502, { error: `the ${color} deployment did not answer`, detail: err.code ?? err.message });
    });
    up.end(body);
  }

  function control(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    if (!isLoopback(req.socket.remoteAddress) || !tokenMatches(req.headers.authorization, opts.controlToken)) {
      sendJson(res, 403, { error: 'the control API answers only on loopback with the deployment token' });
      return;
    }
    if (req.method === 'GET' && req.url === '/_carprice/lb/state') {
      sendJson(res, 200, snapshot());
      return;
    }
    if (req.method === 'POST' && req.url === '/_carprice/lb/switch') {
      let parsed: { color?: unknown; port?: unknown };
      try {
        parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
      } catch {
        sendJson(res, 400, { error: 'body must be JSON {"color":"blue"|"green","port":N}' });
        return;
      }
      const { color, port } = parsed;
      if (
        !COLORS.includes(color as Color) ||
        typeof port !== 'number' ||
        !Number.isInteger(port) ||
        port < 1 ||
        port > 65535
      ) {
        sendJson(res, 400, { error: 'body must be JSON {"color":"blue"|"green","port":N}' });
        return;
      }
      switchTo(color as Color, port);
      sendJson(res, 200, snapshot());
      return;
    }
    sendJson(res, 404, { error: `no control route ${req.method} ${req.url}` });
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) tooBig = true;
      else chunks.push(c);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (tooBig) {
        sendJson(res, 413, { error: `request body over ${maxBody} bytes` });
        return;
      }
      const body = Buffer.concat(chunks);
      if (req.url?.startsWith('/_carprice/lb/')) control(req, res, body);
      else if (active === null)
        sendJson(res, 503, { error: 'no deployment is serving yet', detail: 'run `carprice deploy` first' });
      else forward(req, res, body, active, false);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    snapshot,
    switchTo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        for (const c of COLORS) agents[c].destroy();
      }),
  };
}
