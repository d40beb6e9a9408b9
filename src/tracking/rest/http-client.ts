/**
 * The HTTP layer for talking to an MLflow server (rest_utils.py; spec §1.5-1.6): base URL,
 * auth (Basic from MLFLOW_TRACKING_USERNAME/PASSWORD, which wins, else Bearer from
 * MLFLOW_TRACKING_TOKEN), a per-attempt timeout, retries with exponential backoff on
 * 408/429/500/502/503/504 and transient network errors (Retry-After honoured), and error
 * mapping: an MLflow error body becomes AppError(error_code), a non-JSON 404 becomes
 * ENDPOINT_NOT_FOUND. Errors that no retry can cure (an unknown host, a bad certificate, a
 * server that says artifact serving is disabled) fail at once with their cause.
 * Credentials never appear in messages.
 *
 * Requests go through node:http(s) (see send-request.ts), not fetch: fetch refuses the
 * ports on the WHATWG "bad port" list (5060, 5061, 6000, 6665-6669, ...), where an MLflow
 * server may well listen.
 */
import { Readable } from 'node:stream';
import { AppError, MLFLOW_CODES, type ErrorCode } from '../../core/errors.js';
import type { Env } from '../../config/env.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { describeNetworkError, isTransientNetworkError, sendRequest } from './send-request.js';

export interface MlflowHttpClientOptions {
  /** Tracking URI, e.g. https://dagshub.com/owner/repo.mlflow (may carry a path). */
  baseUrl: string;
  env?: Env;
  /** Per-attempt timeout, ms (default MLFLOW_HTTP_REQUEST_TIMEOUT s, else 120 s). */
  timeoutMs?: number;
  /** Retries after the first attempt (default MLFLOW_HTTP_REQUEST_MAX_RETRIES, else 5). */
  maxRetries?: number;
  /** Backoff unit, ms: waits unit*1, unit*2, unit*4... (default MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR s, else 2 s). */
  backoffMs?: number;
  /** Upper bound for one wait, ms (default 60 s). */
  maxBackoffMs?: number;
  logger?: Logger;
  /** Waits between retries; injected by tests so they need not sleep for seconds. */
  sleep?: (ms: number) => Promise<void>;
  /** Current time in ms, for Retry-After given as an HTTP date (default Date.now). */
  now?: () => number;
}

export interface HttpRequest {
  method: string;
  /** Path below the base URL, starting with '/'. */
  path: string;
  query?: Record<string, string | string[] | undefined>;
  json?: unknown;
  body?: Buffer;
  contentType?: string;
  /** Return the raw response (for downloads) instead of parsed JSON. */
  raw?: boolean;
}

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
/** The proxied artifact service's paths (`/api/2.0/mlflow-artifacts/...`). */
const ARTIFACTS_PATH_PREFIX = '/api/2.0/mlflow-artifacts';

/**
 * The message of MLflow's "artifact serving is disabled" 503 (handlers.py
 * `_disable_unless_serve_artifacts`: "Endpoint: ... disabled due to the mlflow server running
 * with `--no-serve-artifacts`. ..."), or undefined for any other 503 (which stays transient).
 */
function artifactsDisabledMessage(text: string): string | undefined {
  return /no-serve-artifacts|disabled due to the mlflow server/i.test(text)
    ? text.trim().replace(/\s+/g, ' ').slice(0, 400)
    : undefined;
}
const MLFLOW_CODE_SET = new Set<string>(MLFLOW_CODES);

function statusCode(status: number): ErrorCode {
  if (status === 400) return 'BAD_REQUEST';
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 404 || status === 405) return 'ENDPOINT_NOT_FOUND';
  if (status === 409) return 'RESOURCE_CONFLICT';
  if (status === 429) return 'REQUEST_LIMIT_EXCEEDED';
  if (status === 501) return 'NOT_IMPLEMENTED';
  if (status === 503) return 'TEMPORARILY_UNAVAILABLE';
  if (status === 504) return 'DEADLINE_EXCEEDED';
  return 'INTERNAL_ERROR';
}

function envNumber(v: string | undefined, fallback: number): number {
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** The Authorization header for the environment, or undefined. Basic wins over Bearer. */
export function authorizationHeader(env: Env): string | undefined {
  if (env.MLFLOW_TRACKING_USERNAME && env.MLFLOW_TRACKING_PASSWORD)
    return 'Basic ' + Buffer.from(`${env.MLFLOW_TRACKING_USERNAME}:${env.MLFLOW_TRACKING_PASSWORD}`).toString('base64');
  if (env.MLFLOW_TRACKING_TOKEN) return `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
  return undefined;
}

/** The URL without user info, for messages. */
function safeUrl(u: string): string {
  try {
    const url = new URL(u);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return '(invalid URL)';
  }
}

/**
 * A Retry-After header in ms: delta-seconds ("3" -> 3000) or an HTTP date (RFC 9110,
 * "Wed, 21 Oct 2015 07:28:00 GMT" -> that instant minus `now`, at least 0); undefined when
 * absent or unreadable, so the exponential backoff applies.
 */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const h = header.trim();
  if (/^\d+(\.\d+)?$/.test(h)) return Number(h) * 1000;
  const at = Date.parse(h);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** HTTP transport to one MLflow server: auth, timeouts, retries and error mapping. */
export class MlflowHttpClient {
  readonly baseUrl: string;
  private readonly auth: string | undefined;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly log: Logger;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(opts: MlflowHttpClientOptions) {
    const env = opts.env ?? {};
    let base: URL;
    try {
      base = new URL(opts.baseUrl);
    } catch (e) {
      throw new AppError(
        'CONFIG_INVALID',
        `invalid tracking URI '${opts.baseUrl}': expected http(s)://host[:port][/path]`,
        { cause: e },
      );
    }
    // Credentials in the URL itself (https://user:pass@host) are honoured but kept out of the base.
    let auth = authorizationHeader(env);
    if (!auth && base.username)
      auth =
        'Basic ' +
        Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64');
    base.username = '';
    base.password = '';
    this.baseUrl = base.toString().replace(/\/+$/, '');
    this.auth = auth;
    this.timeoutMs = opts.timeoutMs ?? envNumber(env.MLFLOW_HTTP_REQUEST_TIMEOUT, 120) * 1000;
    this.maxRetries = opts.maxRetries ?? envNumber(env.MLFLOW_HTTP_REQUEST_MAX_RETRIES, 5);
    this.backoffMs = opts.backoffMs ?? envNumber(env.MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR, 2) * 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 60000;
    this.log = opts.logger ?? silentLogger;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = opts.now ?? Date.now;
  }

  private url(path: string, query?: HttpRequest['query']): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) u.searchParams.append(k, x);
    }
    return u.toString();
  }

  /** Send a request, retrying transient failures; returns parsed JSON or the raw Response. */
  async request(req: HttpRequest & { raw: true }): Promise<Response>;
  async request(req: HttpRequest): Promise<Record<string, unknown>>;
  async request(req: HttpRequest): Promise<Record<string, unknown> | Response> {
    const url = this.url(req.path, req.query);
    const headers: Record<string, string> = { 'User-Agent': 'carprice-mlflow-client/0.1', Accept: 'application/json' };
    if (this.auth) headers.Authorization = this.auth;
    let body: string | Buffer | undefined;
    if (req.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(req.json);
    } else if (req.body !== undefined) {
      headers['Content-Type'] = req.contentType ?? 'application/octet-stream';
      body = req.body;
    }
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await sendRequest(url, {
          method: req.method,
          headers,
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (e) {
        const timedOut = (e as Error).name === 'TimeoutError';
        const cause = describeNetworkError(e);
        if ((timedOut || isTransientNetworkError(e)) && attempt < this.maxRetries) {
          await this.backoff(attempt, undefined, `${req.method} ${req.path}: ${cause}`);
          continue;
        }
        throw new AppError(
          timedOut ? 'DEADLINE_EXCEEDED' : 'NETWORK',
          timedOut
            ? `${req.method} ${safeUrl(url)} timed out after ${this.timeoutMs / 1000} s (${attempt + 1} attempt(s)); raise MLFLOW_HTTP_REQUEST_TIMEOUT or check the server`
            : `cannot reach the MLflow server at ${safeUrl(this.baseUrl)}${attempt > 0 ? ` after ${attempt + 1} attempts` : ''}: ${cause}; check MLFLOW_TRACKING_URI and the network`,
          { cause: e },
        );
      }
      if (RETRY_STATUSES.has(res.status) && attempt < this.maxRetries) {
        // A 503 that says the server does not serve artifacts at all is permanent (MLflow
        // 2.x/3.x `--no-serve-artifacts`): retrying it only delays the answer.
        const text = await res.text().catch(() => '');
        const permanent =
          res.status === 503 && req.path.startsWith(ARTIFACTS_PATH_PREFIX) ? artifactsDisabledMessage(text) : undefined;
        if (permanent !== undefined) throw this.artifactsDisabled(permanent);
        await this.backoff(
          attempt,
          res.headers.get('retry-after') ?? undefined,
          `${req.method} ${req.path}: HTTP ${res.status}`,
        );
        continue;
      }
      if (res.ok) {
        if (req.raw) return res;
        const text = await res.text();
        if (text.trim() === '') return {};
        try {
          const parsed = JSON.parse(text) as unknown;
          if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
            return parsed as Record<string, unknown>;
        } catch {
          // fall through
        }
        throw new AppError(
          'INTERNAL_ERROR',
          `the server at ${safeUrl(this.baseUrl)} answered ${req.method} ${req.path} with a body that is not a JSON object; is MLFLOW_TRACKING_URI an MLflow server?`,
        );
      }
      const text = await res.text().catch(() => '');
      const permanent =
        res.status === 503 && req.path.startsWith(ARTIFACTS_PATH_PREFIX) ? artifactsDisabledMessage(text) : undefined;
      if (permanent !== undefined) throw this.artifactsDisabled(permanent);
      throw this.toError(res.status, text, req);
    }
  }

  private artifactsDisabled(serverMessage: string): AppError {
    return new AppError(
      'TEMPORARILY_UNAVAILABLE',
      `the MLflow server at ${safeUrl(this.baseUrl)} does not serve artifacts (HTTP 503: ${serverMessage}); start it with artifact proxying (mlflow server --serve-artifacts --artifacts-destination <dir or s3://bucket/path>) or give the experiment an s3:// artifact location`,
      { details: { status: 503 } },
    );
  }

  private async backoff(attempt: number, retryAfter: string | undefined, why: string): Promise<void> {
    let wait = Math.min(this.backoffMs * 2 ** attempt, this.maxBackoffMs);
    const ra = retryAfterMs(retryAfter, this.now());
    if (ra !== undefined) wait = Math.min(ra, this.maxBackoffMs);
    // the first retry is a warning (a CLI shows it: a wrong port or a server still starting
    // would otherwise look like a hang); the later ones are debug lines
    const seconds = `${(wait / 1000).toFixed(wait < 1000 ? 1 : 0)} s`;
    if (attempt === 0)
      this.log.warn(
        { attempt: 1, waitMs: wait },
        `MLflow server ${safeUrl(this.baseUrl)}, ${why}; retrying up to ${this.maxRetries} times with growing waits, the first in ${seconds} (MLFLOW_HTTP_REQUEST_MAX_RETRIES sets how many; Ctrl-C stops)`,
      );
    else this.log.debug({ attempt: attempt + 1, waitMs: wait }, `retry ${attempt + 1} in ${seconds} after ${why}`);
    await this.sleep(wait);
  }

  private toError(status: number, text: string, req: HttpRequest): AppError {
    let parsed: { error_code?: unknown; message?: unknown } | undefined;
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    if (parsed && typeof parsed.error_code === 'string') {
      const code = (MLFLOW_CODE_SET.has(parsed.error_code) ? parsed.error_code : statusCode(status)) as ErrorCode;
      return new AppError(
        code,
        typeof parsed.message === 'string' ? parsed.message : `${parsed.error_code} from ${req.path}`,
        {
          details: { status: status, errorCode: parsed.error_code },
        },
      );
    }
    const code = statusCode(status);
    let message = `${req.method} ${req.path} failed with HTTP ${status}`;
    if (status === 404)
      message =
        req.path.includes('registered-models') || req.path.includes('model-versions')
          ? `the server at ${safeUrl(this.baseUrl)} does not offer the MLflow model registry API (${req.path} answered 404); use a server with a database backend (mlflow server --backend-store-uri sqlite:///...) or carprice tracking serve`
          : `the server at ${safeUrl(this.baseUrl)} does not serve ${req.path} (HTTP 404); check MLFLOW_TRACKING_URI (DagsHub: https://dagshub.com/OWNER/REPO.mlflow)`;
    else if (status === 401)
      message = `the MLflow server at ${safeUrl(this.baseUrl)} refused the credentials (HTTP 401); set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (DagsHub: user name + token) or MLFLOW_TRACKING_TOKEN`;
    else if (status === 403)
      message = `the MLflow server at ${safeUrl(this.baseUrl)} denied ${req.method} ${req.path} (HTTP 403); the user lacks permission`;
    else if (text.trim()) message += `: ${text.trim().slice(0, 300)}`;
    return new AppError(code, message, { details: { status: status } });
  }

  /** Turn a raw response body into a Node stream. */
  static bodyStream(res: Response): Readable {
    if (!res.body) return Readable.from([]);
    return Readable.fromWeb(res.body as never);
  }
}
