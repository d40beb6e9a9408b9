/**
 * The MLflow-compatible tracking server as a Fastify app, built without listening (only
 * the `carprice tracking serve` command listens). It serves every endpoint of
 * protocol/endpoints.ts under /api/2.0 and /ajax-api/2.0, the artifact routes
 * (artifact-service.ts), /graphql, /health and /version, over any TrackingStore.
 * Every failure is MLflow's error JSON `{error_code, message}` with the matching status:
 * malformed JSON or URLs, oversized or too deeply nested bodies, wrong types and unknown
 * endpoints are 4xx, never a 500 or a hang; a 500 is logged at error level.
 * Requests pass the Host/Origin guards (security.ts), then optional basic auth
 * (basic-auth.ts), as in MLflow 3.5.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { AppError, httpStatusOf, MLFLOW_CODES, type MlflowCode } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { API_PREFIXES, ENDPOINTS, type EndpointName } from '../protocol/endpoints.js';
import { parseRequest } from '../protocol/fields.js';
import { toWireJson } from '../protocol/codec.js';
import type { TrackingStore } from '../store.js';
import type { ArtifactRepository } from '../artifacts/artifact-repository.js';
import { handlers, type HandlerContext } from './handlers.js';
import { decodeJsonBody, readBody, requireJsonContentType } from './json-body.js';
import { registerGraphql } from './graphql.js';
import { parseUsers, registerBasicAuth } from './basic-auth.js';
import { registerSecurity } from './security.js';
import { proxiedPathOf, registerArtifactRoutes, subRepository } from './artifact-service.js';

/** The MLflow REST API level carprice implements, answered by GET /version. */
export const COMPATIBLE_MLFLOW_VERSION = '3.5.0';

export interface TrackingServerOptions {
  store: TrackingStore;
  /** Destination of proxied artifacts (mlflow-artifacts:); absent = the artifact service answers 503. */
  artifactsDestination?: ArtifactRepository;
  /** Repository for a run's artifact_uri when it is not mlflow-artifacts: (local, s3). */
  artifactRepositoryFor?: (artifactUri: string) => ArtifactRepository;
  /** Basic-auth users (`user:password[,user:password]`, as CARPRICE_TRACKING_USERS); none = open. */
  users?: string;
  /** Host header patterns accepted (fnmatch, MLflow's --allowed-hosts); default: localhost and private addresses. */
  allowedHosts?: readonly string[];
  /** Origins allowed to send state-changing requests cross-origin (local origins always are). */
  corsAllowedOrigins?: readonly string[];
  logger?: Logger;
  /** Largest JSON body accepted, bytes (default 16 MiB). */
  jsonBodyLimit?: number;
  /** Largest artifact upload, bytes (default 5 GiB). */
  artifactBodyLimit?: number;
  /**
   * More routes on the same server (the CLI mounts the web dashboard at /ui), added after
   * the guards and basic auth, so they apply; given the store and the artifact lookup.
   */
  extend?: (app: FastifyInstance, ctx: ServerExtensionContext) => Promise<void>;
}

/** What an extension of the tracking server reads. */
export interface ServerExtensionContext {
  store: TrackingStore;
  /** The artifact repository of a run's artifact URI (mlflow-artifacts: resolved to the destination). */
  artifactsFor(uri: string): ArtifactRepository;
}

const MLFLOW_CODE_SET = new Set<string>(MLFLOW_CODES);

/** MLflow's error JSON for any error, with the status it maps to. */
export function toWireError(e: unknown): { status: number; body: { error_code: MlflowCode; message: string } } {
  if (e instanceof AppError) {
    if (MLFLOW_CODE_SET.has(e.code))
      return { status: httpStatusOf(e.code), body: { error_code: e.code as MlflowCode, message: e.message } };
    const status = httpStatusOf(e.code);
    if (status >= 400 && status < 500) return { status: 400, body: { error_code: 'BAD_REQUEST', message: e.message } };
    if (status === 502 || status === 503)
      return { status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: e.message } };
    return { status: 500, body: { error_code: 'INTERNAL_ERROR', message: e.message } };
  }
  const fe = e as { code?: string; statusCode?: number; message?: string };
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fe.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH')
    return {
      status: 400,
      body: {
        error_code: 'INVALID_PARAMETER_VALUE',
        message: 'Bad Request. Content-Type must be one of [application/json].',
      },
    };
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'Request body is too large.' } };
  if (fe.code === 'FST_ERR_BAD_URL')
    return {
      status: 400,
      body: {
        error_code: 'INVALID_PARAMETER_VALUE',
        message: 'Malformed URL: invalid percent-encoding (a % must be followed by two hex digits).',
      },
    };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return { status: 400, body: { error_code: 'BAD_REQUEST', message: fe.message ?? 'Bad request.' } };
  return { status: 500, body: { error_code: 'INTERNAL_ERROR', message: 'Internal server error; see the server log.' } };
}

/** Answer a connection-level error (an oversized or unparsable request) in MLflow's JSON, then close. */
function clientError(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return void socket.destroy();
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify({
    error_code: 'INVALID_PARAMETER_VALUE',
    message: tooLarge
      ? 'Request header fields too large: the URL and headers must fit in 16 KiB; send long filters in a POST body.'
      : 'Malformed HTTP request.',
  });
  socket.end(
    `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** A Fastify route URL (`/a/:id/b/*`) as a regular expression over request paths. */
function routePattern(url: string): RegExp {
  const body = url
    .split('/')
    .map((seg) => (seg === '*' ? '.*' : seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${body}$`);
}

/** Build the tracking server (not listening). */
export async function buildTrackingServer(opts: TrackingServerOptions): Promise<FastifyInstance> {
  const log = opts.logger ?? silentLogger;
  const users = parseUsers(opts.users);
  const jsonLimit = opts.jsonBodyLimit ?? 16 * 1024 * 1024;
  const artifactLimit = opts.artifactBodyLimit ?? 5 * 1024 * 1024 * 1024;
  const app = Fastify({
    logger: false,
    bodyLimit: artifactLimit,
    return503OnClosing: false,
    clientErrorHandler: clientError,
    frameworkErrors: (err, req, reply) => {
      const { status, body } = toWireError(err);
      log.debug({ code: body.error_code, url: req.url }, body.message);
      void (reply as FastifyReply).status(status).type('application/json').send(body);
    },
  });

  // Bodies are read by the routes themselves: JSON routes buffer with a limit, artifact
  // uploads stream. This also keeps Fastify from answering bad JSON in its own format.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toWireError(err);
    if (status >= 500)
      log.error(
        { err, method: req.method, url: req.url },
        `tracking server error: ${(err as Error)?.message ?? String(err)}`,
      );
    else log.debug({ code: body.error_code, url: req.url }, body.message);
    void reply.status(status).type('application/json').send(body);
  });
  // Every route registered, as a pattern, so that a known path called with another method
  // is told 405 with an Allow header, as MLflow (Flask) answers, not 404.
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (r) => {
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).map(String);
    routes.push({ pattern: routePattern(r.url), methods });
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0];
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))].filter(
      (m) => m !== 'HEAD' && m !== 'OPTIONS' && m !== req.method,
    );
    if (allowed.length)
      return void reply
        .status(405)
        .header('Allow', [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', '))
        .type('application/json')
        .send({
          error_code: 'ENDPOINT_NOT_FOUND',
          message: `${req.method} is not allowed on ${path}: use ${allowed.join(' or ')}.`,
        });
    void reply
      .status(404)
      .type('application/json')
      .send({
        error_code: 'ENDPOINT_NOT_FOUND',
        message: `No API endpoint ${req.method} ${path} on this server.`,
      });
  });

  registerSecurity(app, { allowedHosts: opts.allowedHosts, corsAllowedOrigins: opts.corsAllowedOrigins, logger: log });
  registerBasicAuth(app, users);

  // Graceful close: requests in flight, and any arriving on connections still open, are
  // answered (no 503), each with `Connection: close` so that the client opens a new
  // connection for its next request and the server can finish.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) void reply.header('Connection', 'close');
    return payload;
  });

  const ctx: HandlerContext = {
    store: opts.store,
    artifactsFor(uri: string): ArtifactRepository {
      const sub = proxiedPathOf(uri);
      if (sub !== undefined) {
        const dest = opts.artifactsDestination;
        if (!dest)
          throw new AppError(
            'TEMPORARILY_UNAVAILABLE',
            'This server does not serve artifacts (no --artifacts-destination).',
          );
        return subRepository(dest, sub);
      }
      if (!opts.artifactRepositoryFor)
        throw new AppError('NOT_IMPLEMENTED', `This server cannot read artifacts at '${uri}'.`);
      try {
        return opts.artifactRepositoryFor(uri);
      } catch (e) {
        // A location the server cannot open (an unknown scheme, a malformed URI) is the request's problem.
        if (e instanceof AppError && httpStatusOf(e.code) < 500)
          throw new AppError('INVALID_PARAMETER_VALUE', e.message, { cause: e });
        throw e;
      }
    },
  };

  for (const name of Object.keys(ENDPOINTS) as EndpointName[]) {
    const endpoint = ENDPOINTS[name];
    const handler = handlers[name] as (req: unknown, c: HandlerContext) => Promise<Record<string, unknown>>;
    for (const prefix of API_PREFIXES) {
      app.route({
        method: [...endpoint.methods],
        url: prefix + endpoint.path,
        handler: async (req: FastifyRequest, reply: FastifyReply) => {
          let input: Record<string, unknown>;
          if (req.method === 'GET') input = (req.query ?? {}) as Record<string, unknown>;
          else {
            requireJsonContentType(req.method, req.headers['content-type'], req.body !== undefined);
            input = decodeJsonBody(await readBody(req.body as Readable | undefined, jsonLimit));
          }
          // Path parameters (/logged-models/:model_id) win over body or query fields.
          const params = req.params as Record<string, string> | undefined;
          if (params && Object.keys(params).length) input = { ...input, ...params };
          const parsed = parseRequest(endpoint.fields, input, { query: req.method === 'GET' });
          const out = await handler(parsed, ctx);
          return reply.type('application/json').send(toWireJson(out));
        },
      });
    }
  }

  registerArtifactRoutes(app, {
    store: opts.store,
    destination: opts.artifactsDestination,
    artifactsFor: (uri) => ctx.artifactsFor(uri),
  });
  registerGraphql(app, { ctx, jsonLimit });

  if (opts.extend) await opts.extend(app, { store: opts.store, artifactsFor: (uri) => ctx.artifactsFor(uri) });

  app.get('/health', async (_req, reply) => reply.type('text/plain').send('OK'));
  app.get('/version', async (_req, reply) => reply.type('text/plain').send(COMPATIBLE_MLFLOW_VERSION));
  app.get('/api/3.0/mlflow/server-info', async (_req, reply) =>
    reply
      .type('application/json')
      .send({ store_type: opts.store.kind === 'sqlite' ? 'SqlStore' : null, workspaces_enabled: false }),
  );

  app.addHook('onClose', async () => {
    log.debug('tracking server closed');
  });
  return app;
}
