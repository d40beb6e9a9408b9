/**
 * The MLflow-compatible tracking server as a Fastify app, built without listening (only
 * the `carprice tracking serve` command listens). It serves every endpoint of
 * protocol/endpoints.ts under /api/2.0 and /ajax-api/2.0, the proxied artifact service
 * under /api/2.0/mlflow-artifacts/artifacts, /health and /version, over any TrackingStore.
 * Every failure is MLflow's error JSON `{error_code, message}` with the matching status:
 * malformed JSON, wrong types and unknown endpoints are 4xx, never a 500 or a hang.
 * Optional basic auth mirrors MLflow's basic-auth app (401 + WWW-Authenticate).
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AppError, httpStatusOf, MLFLOW_CODES, type MlflowCode } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { API_PREFIXES, ENDPOINTS, type EndpointName } from '../protocol/endpoints.js';
import { parseRequest } from '../protocol/fields.js';
import type { TrackingStore } from '../store.js';
import { safeRelativePath, type ArtifactRepository } from '../artifacts/artifact-repository.js';
import { handlers, type HandlerContext } from './handlers.js';

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
  logger?: Logger;
  /** Largest JSON body accepted, bytes (default 16 MiB). */
  jsonBodyLimit?: number;
  /** Largest artifact upload, bytes (default 5 GiB). */
  artifactBodyLimit?: number;
}

const MLFLOW_CODE_SET = new Set<string>(MLFLOW_CODES);

/** MLflow's error JSON for any error, with the status it maps to. */
export function toWireError(e: unknown): { status: number; body: { error_code: MlflowCode; message: string } } {
  if (e instanceof AppError) {
    if (MLFLOW_CODE_SET.has(e.code)) return { status: httpStatusOf(e.code), body: { error_code: e.code as MlflowCode, message: e.message } };
    const status = httpStatusOf(e.code);
    if (status >= 400 && status < 500) return { status: 400, body: { error_code: 'BAD_REQUEST', message: e.message } };
    if (status === 502 || status === 503) return { status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: e.message } };
    return { status: 500, body: { error_code: 'INTERNAL_ERROR', message: e.message } };
  }
  const fe = e as { code?: string; statusCode?: number; message?: string };
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fe.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH')
    return { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'Bad Request. Content-Type must be one of [application/json].' } };
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'Request body is too large.' } };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return { status: 400, body: { error_code: 'BAD_REQUEST', message: fe.message ?? 'Bad request.' } };
  return { status: 500, body: { error_code: 'INTERNAL_ERROR', message: 'Internal server error; see the server log.' } };
}

function parseUsers(spec: string | undefined): Map<string, string> {
  const users = new Map<string, string>();
  for (const entry of (spec ?? '').split(',')) {
    const i = entry.indexOf(':');
    if (i > 0) users.set(entry.slice(0, i).trim(), entry.slice(i + 1));
  }
  if (spec && users.size === 0)
    throw new AppError('CONFIG_INVALID', 'CARPRICE_TRACKING_USERS must be user:password[,user:password...]');
  return users;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function readBody(stream: Readable | undefined, limit: number): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    size += b.length;
    if (size > limit) throw new AppError('INVALID_PARAMETER_VALUE', `Request body exceeds the limit of ${limit} bytes.`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Decode a JSON request body as MLflow does: empty -> {}, a JSON string holding JSON is decoded twice. */
function decodeJsonBody(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
    if (typeof v === 'string') v = JSON.parse(v);
  } catch (e) {
    throw new AppError('INVALID_PARAMETER_VALUE', `Malformed JSON in request body: ${(e as Error).message}.`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new AppError('INVALID_PARAMETER_VALUE', 'Request body must be a JSON object.');
  return v as Record<string, unknown>;
}

function isJsonContentType(ct: string | undefined): boolean {
  return (ct ?? '').split(';')[0].trim().toLowerCase() === 'application/json';
}

const MIME: Record<string, string> = {
  json: 'application/json',
  yaml: 'text/yaml',
  yml: 'text/yaml',
  txt: 'text/plain',
  csv: 'text/csv',
  html: 'text/html',
  png: 'image/png',
  jpg: 'image/jpeg',
};

/** Build the tracking server (not listening). */
export async function buildTrackingServer(opts: TrackingServerOptions): Promise<FastifyInstance> {
  const log = opts.logger ?? silentLogger;
  const users = parseUsers(opts.users);
  const jsonLimit = opts.jsonBodyLimit ?? 16 * 1024 * 1024;
  const artifactLimit = opts.artifactBodyLimit ?? 5 * 1024 * 1024 * 1024;
  const app = Fastify({ logger: false, bodyLimit: artifactLimit, return503OnClosing: true });

  // Bodies are read by the routes themselves: JSON routes buffer with a limit, artifact
  // uploads stream. This also keeps Fastify from answering bad JSON in its own format.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toWireError(err);
    if (status >= 500) log.error({ err, url: req.url }, 'tracking server error');
    else log.debug({ code: body.error_code, url: req.url }, body.message);
    void reply.status(status).type('application/json').send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .status(404)
      .type('application/json')
      .send({ error_code: 'ENDPOINT_NOT_FOUND', message: `No API endpoint ${req.method} ${req.url.split('?')[0]} on this server.` });
  });

  if (users.size > 0) {
    app.addHook('onRequest', async (req, reply) => {
      if (req.url === '/health' || req.url.startsWith('/static')) return;
      const h = req.headers.authorization ?? '';
      let ok = false;
      if (h.startsWith('Basic ')) {
        const decoded = Buffer.from(h.slice(6), 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        const pass = i > 0 ? users.get(decoded.slice(0, i)) : undefined;
        ok = pass !== undefined && sameSecret(pass, decoded.slice(i + 1));
      }
      if (!ok) {
        return reply
          .status(401)
          .header('WWW-Authenticate', 'Basic realm="mlflow"')
          .type('text/plain')
          .send(
            'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.',
          );
      }
    });
  }

  const proxyPrefix = 'mlflow-artifacts:';
  const ctx: HandlerContext = {
    store: opts.store,
    artifactsFor(uri: string): ArtifactRepository {
      if (uri.startsWith(proxyPrefix)) {
        const dest = opts.artifactsDestination;
        if (!dest) throw new AppError('TEMPORARILY_UNAVAILABLE', 'This server does not serve artifacts (no --artifacts-destination).');
        const sub = safeRelativePath(uri.replace(/^mlflow-artifacts:(\/\/[^/]+)?\/*/, ''));
        return subRepository(dest, sub);
      }
      if (!opts.artifactRepositoryFor) throw new AppError('NOT_IMPLEMENTED', `This server cannot read artifacts at '${uri}'.`);
      return opts.artifactRepositoryFor(uri);
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
            if ((req.method === 'POST' || req.method === 'PUT') && !isJsonContentType(req.headers['content-type']) && req.body !== undefined)
              throw new AppError('INVALID_PARAMETER_VALUE', 'Bad Request. Content-Type must be one of [application/json].');
            input = decodeJsonBody(await readBody(req.body as Readable | undefined, jsonLimit));
          }
          // Path parameters (/logged-models/:model_id) win over body or query fields.
          const params = req.params as Record<string, string> | undefined;
          if (params && Object.keys(params).length) input = { ...input, ...params };
          const parsed = parseRequest(endpoint.fields, input);
          const out = await handler(parsed, ctx);
          return reply.type('application/json').send(out);
        },
      });
    }
  }

  registerArtifactRoutes(app, opts.artifactsDestination);

  app.get('/health', async (_req, reply) => reply.type('text/plain').send('OK'));
  app.get('/version', async (_req, reply) => reply.type('text/plain').send(COMPATIBLE_MLFLOW_VERSION));
  app.get('/api/3.0/mlflow/server-info', async (_req, reply) =>
    reply.type('application/json').send({ store_type: opts.store.kind === 'sqlite' ? 'SqlStore' : null, workspaces_enabled: false }),
  );

  app.addHook('onClose', async () => {
    log.debug('tracking server closed');
  });
  return app;
}

/** A view of `repo` rooted at `sub`. */
function subRepository(repo: ArtifactRepository, sub: string): ArtifactRepository {
  const j = (p: string) => [sub, safeRelativePath(p)].filter(Boolean).join('/');
  return {
    rootUri: `${repo.rootUri.replace(/\/+$/, '')}/${sub}`,
    write: (p, body) => repo.write(j(p), body),
    read: (p) => repo.read(j(p)),
    list: async (p) => (await repo.list(j(p))).map((f) => ({ ...f, path: sub ? f.path.slice(sub.length + 1) : f.path })),
    delete: (p) => repo.delete(j(p)),
  };
}

function registerArtifactRoutes(app: FastifyInstance, dest: ArtifactRepository | undefined): void {
  const need = (): ArtifactRepository => {
    if (!dest) throw new AppError('TEMPORARILY_UNAVAILABLE', 'This server does not serve artifacts (started without an artifacts destination).');
    return dest;
  };
  for (const prefix of API_PREFIXES) {
    const base = `${prefix}/mlflow-artifacts/artifacts`;
    app.get(base, async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      const dir = safeRelativePath(typeof q.path === 'string' ? q.path : '');
      const files = await need().list(dir);
      const out = files.map((f) => {
        const name = f.path.split('/').pop() ?? f.path;
        return f.isDir ? { path: name, is_dir: true } : { path: name, is_dir: false, file_size: f.fileSize ?? 0 };
      });
      return reply.type('application/json').send(out.length ? { files: out } : {});
    });
    app.get(`${base}/*`, async (req, reply) => {
      const path = safeRelativePath((req.params as Record<string, string>)['*']);
      const stream = await need().read(path);
      const name = path.split('/').pop() ?? 'artifact';
      const ext = name.includes('.') ? name.split('.').pop()!.toLowerCase() : '';
      return reply
        .header('Content-Disposition', `attachment; filename=${JSON.stringify(name)}`)
        .header('X-Content-Type-Options', 'nosniff')
        .type(MIME[ext] ?? (name === 'MLmodel' ? 'text/plain' : 'application/octet-stream'))
        .send(stream);
    });
    app.put(`${base}/*`, async (req, reply) => {
      const path = safeRelativePath((req.params as Record<string, string>)['*']);
      if (!path) throw new AppError('INVALID_PARAMETER_VALUE', 'Invalid path: an artifact upload needs a file path.');
      const body = req.body as Readable | undefined;
      await need().write(path, body ?? Buffer.alloc(0));
      return reply.type('application/json').send({});
    });
    app.delete(`${base}/*`, async (req, reply) => {
      const path = safeRelativePath((req.params as Record<string, string>)['*']);
      await need().delete(path);
      return reply.type('application/json').send({});
    });
  }
}
