/**
 * The tracking server's request guards, as MLflow 3.5's security middleware
 * (server/security.py, security_utils.py):
 *  - Host header check against DNS rebinding: a Host outside the allowed patterns gets
 *    403 text/plain "Invalid Host header - possible DNS rebinding attack detected"
 *    (/health and /version exempt). Default patterns: localhost, 127.0.0.1, [::1], 0.0.0.0
 *    (any port) and the private ranges 10.*, 192.168.*, 172.16-31.*, fc00:*, fd00:*.
 *    Patterns are fnmatch globs (`*.example.com`, `mlflow.internal:5000`); `*` allows all.
 *  - Cross-origin state changes: POST/PUT/DELETE/PATCH to /api/ with an Origin that is
 *    neither localhost nor allowed gets 403 text/plain "Cross-origin request blocked".
 *  - OPTIONS answers 204 without a body (CORS headers for an allowed or local origin).
 *  - Every response carries X-Content-Type-Options: nosniff and X-Frame-Options: SAMEORIGIN.
 * Example: allowedHosts ['mlflow.corp:5000'] accepts `Host: mlflow.corp:5000` only.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../core/logger.js';

export const INVALID_HOST_MSG = 'Invalid Host header - possible DNS rebinding attack detected';
export const CORS_BLOCKED_MSG = 'Cross-origin request blocked';

const LOCALHOST_VARIANTS = ['localhost', '127.0.0.1', '[::1]', '0.0.0.0'];
const STATE_CHANGING = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);
const EXEMPT_FROM_HOST_CHECK = new Set(['/health', '/version']);

/** MLflow's default allowed Host patterns. */
export function defaultAllowedHosts(): string[] {
  const privateRanges = [
    '192.168.*',
    '10.*',
    ...Array.from({ length: 16 }, (_, i) => `172.${16 + i}.*`),
    'fc00:*',
    'fd00:*',
  ];
  return [...LOCALHOST_VARIANTS, ...LOCALHOST_VARIANTS.map((h) => `${h.replace('[', '[[]')}:*`), ...privateRanges];
}

/** A comma-separated list (`a, b`) as MLflow reads MLFLOW_SERVER_ALLOWED_HOSTS. */
export function parseHostList(spec: string | undefined): string[] | undefined {
  if (spec === undefined || spec.trim() === '') return undefined;
  return spec
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
}

/** Python's fnmatch pattern as an anchored, case-insensitive RegExp. */
export function fnmatchRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        const negate = body.startsWith('!');
        if (negate) body = body.slice(1);
        out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
        i = end;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 'is');
}

/** Whether `host` (a Host header value) matches one of the allowed patterns. */
export function isAllowedHost(patterns: readonly RegExp[] | 'any', host: string | undefined): boolean {
  if (!host) return false;
  if (patterns === 'any') return true;
  return patterns.some((p) => p.test(host));
}

function isLocalOrigin(origin: string): boolean {
  try {
    const h = new URL(origin).hostname;
    return h === 'localhost' || h === '127.0.0.1' || h === '[::1]' || h === '::1';
  } catch {
    return false;
  }
}

export interface SecurityOptions {
  /** Host patterns; undefined = MLflow's defaults; containing '*' = no check. */
  allowedHosts?: readonly string[];
  /** Origins allowed to change state cross-origin; '*' = all. Local origins always are. */
  corsAllowedOrigins?: readonly string[];
  logger: Logger;
}

/** Install the guards as the first onRequest hook (before authentication). */
export function registerSecurity(app: FastifyInstance, opts: SecurityOptions): void {
  const hosts = opts.allowedHosts ?? defaultAllowedHosts();
  const hostPatterns: RegExp[] | 'any' = hosts.includes('*') ? 'any' : hosts.map(fnmatchRegExp);
  const origins = opts.corsAllowedOrigins ?? [];
  const anyOrigin = origins.includes('*');
  const originAllowed = (origin: string) => anyOrigin || isLocalOrigin(origin) || origins.includes(origin);

  const corsHeaders = (req: FastifyRequest, reply: FastifyReply) => {
    const origin = req.headers.origin;
    if (!origin || !originAllowed(origin)) return;
    void reply
      .header('Access-Control-Allow-Origin', origin)
      .header('Access-Control-Allow-Credentials', 'true')
      .header('Vary', 'Origin');
  };

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0];
    if (!EXEMPT_FROM_HOST_CHECK.has(path) && !isAllowedHost(hostPatterns, req.headers.host)) {
      opts.logger.warn({ host: req.headers.host }, 'rejected a request with an invalid Host header');
      return reply.status(403).type('text/plain').send(INVALID_HOST_MSG);
    }
    const origin = req.headers.origin;
    if (path.startsWith('/api/') && origin && STATE_CHANGING.has(req.method) && !originAllowed(origin)) {
      opts.logger.warn({ origin }, 'blocked a cross-origin request');
      return reply.status(403).type('text/plain').send(CORS_BLOCKED_MSG);
    }
    if (req.method === 'OPTIONS') {
      corsHeaders(req, reply);
      const asked = req.headers['access-control-request-headers'];
      if (asked && req.headers.origin && originAllowed(req.headers.origin))
        void reply.header('Access-Control-Allow-Headers', asked);
      return reply.status(204).header('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, OPTIONS, PATCH').send();
    }
  });
  app.addHook('onSend', async (req, reply, payload) => {
    void reply.header('X-Content-Type-Options', 'nosniff').header('X-Frame-Options', 'SAMEORIGIN');
    if (req.method !== 'OPTIONS') corsHeaders(req, reply);
    return payload;
  });
}
