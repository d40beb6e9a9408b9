/**
 * The tracking server's artifact routes:
 *  - the proxied artifact service (mlflow_artifacts.proto) under
 *    /api/2.0/mlflow-artifacts/artifacts and its /ajax-api mirror: GET lists or streams,
 *    PUT uploads raw bytes, DELETE removes;
 *  - MLflow's download routes for the UI and other clients: GET /get-artifact?run_id=&path=,
 *    GET /model-versions/get-artifact?name=&version=&path=, and
 *    GET /ajax-api/2.0/mlflow/logged-models/<id>/artifacts/files?artifact_file_path=.
 *
 * Writes and deletes are scoped: the path must lie strictly inside the artifact root of a
 * run (`<exp>/<run_id>/artifacts/<path>`) or of a logged model
 * (`<exp>/models/<model_id>/artifacts/<path>`) that the store knows, so no request can
 * remove or overwrite the destination, an experiment's folder or a run's whole root
 * (MLflow itself accepts any path; carprice is deliberately stricter here).
 * Paths arrive URL-decoded once by the router and are never decoded again.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import { AppError, httpStatusOf, isAppError } from '../../core/errors.js';
import type { TrackingStore } from '../store.js';
import { API_PREFIXES } from '../protocol/endpoints.js';
import { missingValue } from '../protocol/fields.js';
import { deletablePath, safeRelativePath, type ArtifactRepository } from '../artifacts/artifact-repository.js';

/** The path of an mlflow-artifacts: URI below the artifact destination, or undefined for another scheme. */
export function proxiedPathOf(uri: string): string | undefined {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?(.*)$/.exec(uri);
  if (!m) return undefined;
  return safeRelativePath(m[1].replace(/^\/+/, ''));
}

/** A view of `repo` rooted at `sub`; a delete of the view's root itself is refused. */
export function subRepository(repo: ArtifactRepository, sub: string): ArtifactRepository {
  const j = (p: string) => [sub, safeRelativePath(p)].filter(Boolean).join('/');
  return {
    rootUri: `${repo.rootUri.replace(/\/+$/, '')}/${sub}`,
    write: (p, body) => repo.write(j(p), body),
    read: (p) => repo.read(j(p)),
    list: async (p) =>
      (await repo.list(j(p))).map((f) => ({ ...f, path: sub ? f.path.slice(sub.length + 1) : f.path })),
    delete: async (p) => repo.delete(j(deletablePath(p))),
  };
}

async function found<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (isAppError(e) && httpStatusOf(e.code) < 500) return undefined;
    throw e;
  }
}

/**
 * The artifact root (below the destination) of the run or logged model that strictly
 * contains `rel`, or undefined. `1/<run>/artifacts/model/MLmodel` -> `1/<run>/artifacts`
 * when run <run> has artifact_uri mlflow-artifacts:/1/<run>/artifacts.
 */
export async function owningArtifactRoot(store: TrackingStore, rel: string): Promise<string | undefined> {
  const segs = rel.split('/');
  for (let i = 0; i + 2 < segs.length; i++) {
    if (segs[i + 1] !== 'artifacts') continue;
    const root = segs.slice(0, i + 2).join('/');
    const id = segs[i];
    const uris: string[] = [];
    if (i >= 1 && segs[i - 1] === 'models') {
      const model = await found(store.getLoggedModel(id));
      if (model) uris.push(model.artifactLocation);
    }
    const run = await found(store.getRun(id));
    if (run) uris.push(run.info.artifactUri);
    if (uris.some((u) => proxiedPathOf(u) === root)) return root;
  }
  return undefined;
}

async function scopedPath(store: TrackingStore, raw: string, verb: 'delete' | 'upload'): Promise<string> {
  const rel = verb === 'delete' ? deletablePath(raw) : safeRelativePath(raw);
  if (!rel) throw new AppError('INVALID_PARAMETER_VALUE', 'Invalid path: an artifact upload needs a file path.');
  if ((await owningArtifactRoot(store, rel)) === undefined)
    throw new AppError(
      'INVALID_PARAMETER_VALUE',
      `Refusing to ${verb} '${rel}': the path must lie inside the artifact root of an existing run (<experiment>/<run_id>/artifacts/...) or logged model (<experiment>/models/<model_id>/artifacts/...), not be the root itself.`,
    );
  return rel;
}

const MIME: Record<string, string> = {
  json: 'application/json',
  yaml: 'text/yaml',
  yml: 'text/yaml',
  txt: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  html: 'text/html',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  pkl: 'application/octet-stream',
};

/** Content-Disposition as werkzeug writes it: a bare token when it can be, else quoted (and RFC 5987 for non-ASCII). */
export function attachmentHeader(name: string): string {
  if (/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return `attachment; filename=${name}`;
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '\\$&');
  if (/^[\x20-\x7e]*$/.test(name)) return `attachment; filename="${ascii}"`;
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** Send an artifact file as MLflow does: always an attachment, nosniff, a guessed type. */
async function sendArtifact(reply: FastifyReply, repo: ArtifactRepository, path: string): Promise<FastifyReply> {
  const stream = await repo.read(path);
  const name = path.split('/').pop() || 'artifact';
  const ext = name.includes('.') ? name.split('.').pop()!.toLowerCase() : '';
  return reply
    .header('Content-Disposition', attachmentHeader(name))
    .header('X-Content-Type-Options', 'nosniff')
    .type(MIME[ext] ?? (name === 'MLmodel' || name === 'MLproject' ? 'text/plain' : 'application/octet-stream'))
    .send(stream);
}

function queryString(q: unknown, ...names: string[]): string | undefined {
  const o = (q ?? {}) as Record<string, unknown>;
  for (const n of names) {
    let v = o[n];
    if (Array.isArray(v)) v = v[v.length - 1];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

function requiredQuery(q: unknown, name: string, alias?: string): string {
  const v = queryString(q, name, ...(alias ? [alias] : []));
  if (v === undefined) throw missingValue(name);
  return v;
}

/** A runs:/<run_id>/<path> or models:/<model_id> location as the artifact URI it stands for. */
async function underlyingUri(store: TrackingStore, uri: string): Promise<string> {
  const run = /^runs:\/([^/]+)\/?(.*)$/.exec(uri);
  if (run) {
    const root = (await store.getRun(run[1])).info.artifactUri.replace(/\/+$/, '');
    const sub = safeRelativePath(run[2]);
    return sub ? `${root}/${sub}` : root;
  }
  const model = /^models:\/(m-[0-9a-f]+)\/?$/.exec(uri);
  if (model) return (await store.getLoggedModel(model[1])).artifactLocation;
  return uri;
}

export interface ArtifactRoutesOptions {
  store: TrackingStore;
  /** Destination of proxied artifacts; absent = the artifact service answers 503. */
  destination?: ArtifactRepository;
  /** The repository holding artifacts at any artifact URI (proxied or direct). */
  artifactsFor(uri: string): ArtifactRepository;
}

/** Mount the artifact routes. */
export function registerArtifactRoutes(app: FastifyInstance, opts: ArtifactRoutesOptions): void {
  const { store } = opts;
  const need = (): ArtifactRepository => {
    if (!opts.destination)
      throw new AppError(
        'TEMPORARILY_UNAVAILABLE',
        'This server does not serve artifacts (started without an artifacts destination).',
      );
    return opts.destination;
  };
  for (const prefix of API_PREFIXES) {
    const base = `${prefix}/mlflow-artifacts/artifacts`;
    app.get(base, async (req, reply) => {
      const dir = safeRelativePath(queryString(req.query, 'path') ?? '');
      const files = await need().list(dir);
      const out = files.map((f) => {
        const name = f.path.split('/').pop() ?? f.path;
        return f.isDir ? { path: name, is_dir: true } : { path: name, is_dir: false, file_size: f.fileSize ?? 0 };
      });
      return reply.type('application/json').send(out.length ? { files: out } : {});
    });
    app.get(`${base}/*`, async (req, reply) =>
      sendArtifact(reply, need(), safeRelativePath((req.params as Record<string, string>)['*'])),
    );
    app.put(`${base}/*`, async (req, reply) => {
      const dest = need();
      const path = await scopedPath(store, (req.params as Record<string, string>)['*'], 'upload');
      await dest.write(path, (req.body as Readable | undefined) ?? Buffer.alloc(0));
      return reply.type('application/json').send({});
    });
    app.delete(`${base}/*`, async (req, reply) => {
      const dest = need();
      const path = await scopedPath(store, (req.params as Record<string, string>)['*'], 'delete');
      await dest.delete(path);
      return reply.type('application/json').send({});
    });
  }

  app.get('/get-artifact', async (req, reply) => {
    const runId = requiredQuery(req.query, 'run_id', 'run_uuid');
    const path = safeRelativePath(requiredQuery(req.query, 'path'));
    const run = await store.getRun(runId);
    return sendArtifact(reply, opts.artifactsFor(run.info.artifactUri), path);
  });
  app.get('/model-versions/get-artifact', async (req, reply) => {
    const name = requiredQuery(req.query, 'name');
    const version = requiredQuery(req.query, 'version');
    const path = safeRelativePath(requiredQuery(req.query, 'path'));
    const uri = await underlyingUri(store, await store.getModelVersionDownloadUri(name, version));
    return sendArtifact(reply, opts.artifactsFor(uri), path);
  });
  app.get('/ajax-api/2.0/mlflow/logged-models/:model_id/artifacts/files', async (req, reply) => {
    const path = queryString(req.query, 'artifact_file_path');
    if (path === undefined)
      throw new AppError('BAD_REQUEST', 'Request must include the "artifact_file_path" query parameter.');
    const rel = safeRelativePath(path);
    const model = await store.getLoggedModel((req.params as Record<string, string>).model_id);
    return sendArtifact(reply, opts.artifactsFor(model.artifactLocation), rel);
  });
}
