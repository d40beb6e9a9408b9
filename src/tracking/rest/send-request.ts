/**
 * One HTTP exchange over node:http/https, answered as a WHATWG `Response` so callers read
 * it as they would fetch's. Why not fetch: fetch refuses every port on the WHATWG "bad
 * port" list (https://fetch.spec.whatwg.org/#port-blocking: 5060, 5061, 6000, 6665-6669,
 * 10080, ...) with an opaque "fetch failed", and an MLflow server may listen on any of
 * them. Like fetch, this follows redirects (at most 20; a 303, and a 301/302 after a POST,
 * become a body-less GET; credentials are dropped when the origin changes), decompresses
 * gzip/deflate/br bodies and honours an AbortSignal (its reason, e.g. a TimeoutError, is
 * what the promise or the body stream rejects with).
 *
 * Also here: which network errors a retry can cure (a refused or reset connection, a DNS
 * hiccup) and which it cannot (an unknown host, a certificate problem, a malformed URL).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

export interface SendOptions {
  method: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 20;
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** Error codes of failures that can pass by themselves: worth a retry. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  const cause = (e as { cause?: unknown } | undefined)?.cause;
  return cause !== undefined && cause !== e ? errorCode(cause) : undefined;
}

/** True when a retry may cure this network error (refused/reset connection, DNS hiccup). */
export function isTransientNetworkError(e: unknown): boolean {
  const code = errorCode(e);
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/**
 * The cause of a network error in words, with what to do where that is clear:
 * "getaddrinfo ENOTFOUND mlflow.invalid (host not found; check the host name)".
 */
export function describeNetworkError(e: unknown): string {
  const code = errorCode(e) ?? '';
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  if (code === 'ENOTFOUND') return `${message} (host not found; check the host name)`;
  if (code === 'ECONNREFUSED') return `${message} (nothing listens there; is the server running on that port?)`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code))
    return `${message} (${code}; the server's TLS certificate is not trusted: add its CA with NODE_EXTRA_CA_CERTS)`;
  if (/wrong version number/i.test(message))
    return 'TLS handshake failed (EPROTO: wrong version number; is the server plain http rather than https?)';
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

function decoded(res: IncomingMessage): Readable {
  const enc = String(res.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  if (enc === 'gzip' || enc === 'x-gzip') return res.pipe(createGunzip());
  if (enc === 'deflate') return res.pipe(createInflate());
  if (enc === 'br') return res.pipe(createBrotliDecompress());
  return res;
}

function toResponse(res: IncomingMessage, method: string): Response {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i], raw[i + 1]);
    } catch {
      // A header value fetch would not accept either: leave it out.
    }
  }
  const status = res.statusCode ?? 0;
  if (NULL_BODY_STATUSES.has(status) || method === 'HEAD' || status < 200 || status > 599) {
    res.resume();
    return new Response(null, {
      status: status >= 200 && status <= 599 ? status : 502,
      statusText: res.statusMessage,
      headers,
    });
  }
  const body = decoded(res);
  if (body !== res) {
    res.on('error', (e) => body.destroy(e));
    headers.delete('content-encoding');
    headers.delete('content-length');
  }
  return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
    status,
    statusText: res.statusMessage,
    headers,
  });
}

function once(url: URL, opts: SendOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
    if (!send) {
      reject(
        Object.assign(new Error(`unsupported protocol '${url.protocol}' in ${url.origin}; use http:// or https://`), {
          code: 'ERR_INVALID_PROTOCOL',
        }),
      );
      return;
    }
    const headers: Record<string, string | number> = { 'Accept-Encoding': 'gzip, deflate, br', ...opts.headers };
    if (opts.body !== undefined) headers['Content-Length'] = Buffer.byteLength(opts.body);
    let req;
    try {
      req = send(url, { method: opts.method, headers, signal: opts.signal });
    } catch (e) {
      reject(e instanceof Error ? e : new Error(`cannot send the request to ${url.origin}`, { cause: e }));
      return;
    }
    req.on('response', resolve);
    req.on('error', (e) => reject(opts.signal?.aborted ? (opts.signal.reason as Error) : e));
    req.end(opts.body);
  });
}

/** Send one request (following redirects) and resolve with the response once its headers arrive. */
export async function sendRequest(url: string | URL, opts: SendOptions): Promise<Response> {
  let current = new URL(url);
  let { method, body } = opts;
  const headers = { ...opts.headers };
  for (let hop = 0; ; hop++) {
    opts.signal?.throwIfAborted();
    const res = await once(current, { method, headers, body, signal: opts.signal });
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(status) || location === undefined) return toResponse(res, method);
    res.resume();
    if (hop >= MAX_REDIRECTS)
      throw Object.assign(new Error(`more than ${MAX_REDIRECTS} redirects from ${new URL(url).origin}`), {
        code: 'ERR_TOO_MANY_REDIRECTS',
      });
    const next = new URL(location, current);
    if (status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST') {
      method = 'GET';
      body = undefined;
      for (const k of Object.keys(headers)) if (/^content-/i.test(k)) delete headers[k];
    }
    if (next.origin !== current.origin)
      for (const k of Object.keys(headers)) if (/^(authorization|cookie)$/i.test(k)) delete headers[k];
    current = next;
  }
}
