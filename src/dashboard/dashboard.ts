/**
 * The web dashboard as a Fastify plugin: `registerDashboard(app, opts)` adds, under /ui,
 *   GET /ui/               the page (one HTML shell; the browser app routes by #hash)
 *   GET /ui/assets/<file>  the bundled script and styles (built by `npm run build`)
 *   /ui/api/*              the JSON the pages read (experiments, runs, artifacts, models,
 *                          pipeline, predictions, monitoring), answered from the host's store
 * Hosts: `carprice tracking serve` and `carprice up` (the prediction API).
 *
 * Security: with users (CARPRICE_TRACKING_USERS) every /ui route, the shell and the assets
 * included, answers 401 with a basic-auth challenge until the browser sends one of them;
 * state-changing calls (promote, rollback) need a signed-in user, a same-origin request and
 * the X-Carprice-UI header (which a cross-site form cannot send), so a page elsewhere
 * cannot act with the browser's remembered credentials. Artifacts are sent with
 * `Content-Security-Policy: sandbox` and as text unless they are JSON or an image, so an
 * HTML or SVG artifact never runs as part of the dashboard. Errors are JSON
 * `{error, message}` with a 4xx naming the parameter; a 500 is logged.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, httpStatusOf, isAppError } from '../core/errors.js';
import { authenticatedUser, parseUsers, type Run } from '../tracking/index.js';
import { equalsClause } from '../tracking/search-filter.js';
import { rowOf, searchRunsPage } from './runs-api.js';
import { pipelineView } from './pipeline-api.js';
import type { DashboardOptions } from './types.js';
import { collectPages } from '../tracking/all-pages.js';
import { parseSince } from '../monitoring/time-window.js';

export type { DashboardOptions } from './types.js';

const DEFAULT_ASSETS = fileURLToPath(new URL('../../ui/', import.meta.url));
const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};
const CSP =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'";
/** Largest artifact sent for preview (the download link has no limit). */
const PREVIEW_LIMIT = 2 * 1024 * 1024;
const MAX_COMPARE = 500;

function bad(message: string): AppError {
  return new AppError('INVALID_PARAMETER_VALUE', message);
}

function str(q: unknown, name: string, required = false): string | undefined {
  const v = (q as Record<string, unknown>)[name];
  if (v === undefined || v === '') {
    if (required) throw bad(`${name} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw bad(`${name} must be given once, as text`);
  return v;
}

function int(q: unknown, name: string, dflt: number): number {
  const v = str(q, name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw bad(`${name} must be a whole number, got '${v}'`);
  return Number(v);
}

function list(q: unknown, name: string): string[] {
  const v = str(q, name);
  return v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

/** The error JSON and status of any failure. */
export function dashboardError(e: unknown): { status: number; body: { error: string; message: string } } {
  if (isAppError(e)) {
    const s = httpStatusOf(e.code);
    return { status: s >= 400 ? s : 500, body: { error: e.code, message: e.message } };
  }
  const fe = e as { statusCode?: number; message?: string; code?: string };
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return { status: fe.statusCode, body: { error: fe.code ?? 'BAD_REQUEST', message: fe.message ?? 'bad request' } };
  return { status: 500, body: { error: 'INTERNAL_ERROR', message: 'internal error; see the server log' } };
}

/** Whether an Origin header names this server (a malformed or opaque origin does not). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

function contentTypeOf(path: string): { type: string; inline: boolean } {
  const ext = path.toLowerCase().split('.').pop() ?? '';
  switch (ext) {
    case 'png':
      return { type: 'image/png', inline: true };
    case 'jpg':
    case 'jpeg':
      return { type: 'image/jpeg', inline: true };
    case 'gif':
      return { type: 'image/gif', inline: true };
    case 'json':
      return { type: 'application/json; charset=utf-8', inline: true };
    case 'txt':
    case 'md':
    case 'csv':
    case 'tsv':
    case 'yaml':
    case 'yml':
    case 'log':
    case 'py':
    case 'toml':
    case 'ini':
    case 'cfg':
    case '':
      return { type: 'text/plain; charset=utf-8', inline: true };
    default:
      // MLmodel, requirements, html, svg ... shown as text, never rendered
      return {
        type: ext.length > 6 || /^[a-z]*$/.test(ext) ? 'text/plain; charset=utf-8' : 'application/octet-stream',
        inline: true,
      };
  }
}

function indexHtml(version: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>carprice</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/app.css?v=${version}">
</head>
<body>
<div id="app"><p class="boot">Loading carprice…</p></div>
<noscript>The carprice dashboard needs JavaScript.</noscript>
<script type="module" src="/ui/assets/app.js?v=${version}"></script>
</body>
</html>
`;
}

/** Add the dashboard's routes to `app` (under /ui). */
export async function registerDashboard(app: FastifyInstance, opts: DashboardOptions): Promise<void> {
  const users = parseUsers(opts.users);
  const assetsDir = opts.assetsDir ?? DEFAULT_ASSETS;
  const store = opts.store;

  let assetCache: { stamp: string; files: Map<string, Buffer>; version: string } | undefined;
  const assets = () => {
    const stamp = Object.keys(ASSETS)
      .map((f) => {
        try {
          const s = statSync(join(assetsDir, f));
          return `${s.mtimeMs}:${s.size}`;
        } catch {
          return 'missing';
        }
      })
      .join('|');
    if (assetCache?.stamp === stamp) return assetCache;
    if (stamp.includes('missing'))
      throw new AppError(
        'TEMPORARILY_UNAVAILABLE',
        `the dashboard's browser code is not built (no ${join(assetsDir, 'app.js')}); run \`npm run build\``,
      );
    const files = new Map(Object.keys(ASSETS).map((f) => [f, readFileSync(join(assetsDir, f))]));
    const h = createHash('sha256');
    for (const b of files.values()) h.update(b);
    assetCache = { stamp, files, version: h.digest('hex').slice(0, 12) };
    return assetCache;
  };

  await app.register(
    async (ui) => {
      // JSON bodies only, parsed here (hosts differ: the tracking server streams raw bodies)
      ui.removeAllContentTypeParsers();
      ui.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
        try {
          done(null, body === '' ? {} : JSON.parse(body as string));
        } catch {
          done(bad('the request body is not valid JSON'), undefined);
        }
      });
      ui.addContentTypeParser('*', (_req, _payload, done) =>
        done(new AppError('BAD_REQUEST', 'send the body as JSON with Content-Type: application/json'), undefined),
      );

      ui.setErrorHandler((err, req, reply) => {
        const { status, body } = dashboardError(err);
        if (status >= 500) req.log?.error?.({ err }, 'dashboard request failed');
        void reply.status(status).type('application/json').header('Cache-Control', 'no-store').send(body);
      });
      ui.setNotFoundHandler((req, reply) => {
        void reply
          .status(404)
          .type('application/json')
          .send({ error: 'ENDPOINT_NOT_FOUND', message: `no dashboard route ${req.method} ${req.url.split('?')[0]}` });
      });

      const userOf = (req: FastifyRequest): string | undefined =>
        users.size ? authenticatedUser(users, req.headers.authorization) : undefined;

      ui.addHook('onRequest', async (req, reply) => {
        if (users.size && userOf(req) === undefined)
          return reply
            .status(401)
            .header('WWW-Authenticate', 'Basic realm="carprice", charset="UTF-8"')
            .header('Cache-Control', 'no-store')
            .type('text/plain')
            .send('The carprice dashboard needs a user name and password (one of CARPRICE_TRACKING_USERS).');
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          const origin = req.headers.origin;
          const host = req.headers.host;
          if (req.headers['x-carprice-ui'] !== '1' || (origin !== undefined && !sameOrigin(origin, host)))
            return reply
              .status(403)
              .type('application/json')
              .send({ error: 'PERMISSION_DENIED', message: 'changes are accepted from the dashboard page only' });
        }
      });
      ui.addHook('onSend', async (_req, reply, payload) => {
        if (!reply.hasHeader('Content-Security-Policy')) void reply.header('Content-Security-Policy', CSP);
        void reply.header('Referrer-Policy', 'same-origin').header('X-Content-Type-Options', 'nosniff');
        if (users.size && !reply.hasHeader('Cache-Control')) void reply.header('Cache-Control', 'private, no-cache');
        return payload;
      });

      // ---------------------------------------------------------------- shell and assets
      ui.get('/', async (_req, reply) => {
        const a = assets();
        return reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-cache').send(indexHtml(a.version));
      });
      ui.get('/assets/:file', async (req, reply) => {
        const file = (req.params as { file: string }).file;
        const type = ASSETS[file];
        if (!type) throw new AppError('NOT_FOUND', `no dashboard asset '${file}'`);
        const a = assets();
        const etag = `"${a.version}"`;
        if (req.headers['if-none-match'] === etag) return reply.status(304).send();
        return reply
          .type(type)
          .header('ETag', etag)
          .header('Cache-Control', users.size ? 'private, no-cache' : 'no-cache')
          .send(a.files.get(file));
      });

      // ---------------------------------------------------------------- session
      ui.get('/api/session', async (req) => {
        const user = userOf(req) ?? null;
        return {
          user,
          canWrite: Boolean(user) && Boolean(opts.governance),
          writeNote: !opts.governance
            ? 'this server does not manage the registry (no governance)'
            : users.size === 0
              ? 'promotion from the dashboard needs users: start the server with CARPRICE_TRACKING_USERS=user:password'
              : null,
          host: opts.host,
          features: {
            pipeline: Boolean(opts.pipelineDir),
            governance: Boolean(opts.governance),
            versionPredictions: opts.versionPredictions !== undefined,
            predict: Boolean(opts.predict),
            monitoring: Boolean(opts.monitoring),
          },
          predictSource: opts.predict?.describe ?? null,
        };
      });

      // ---------------------------------------------------------------- experiments and runs
      ui.get('/api/experiments', async (req) => {
        const view = str(req.query, 'view') === 'all' ? 'ALL' : 'ACTIVE_ONLY';
        const out = await collectPages(
          (pageToken) =>
            store.searchExperiments({
              viewType: view as 'ALL',
              maxResults: 1000,
              pageToken,
              orderBy: ['last_update_time DESC'],
            }),
          10_000,
        );
        return {
          experiments: out.map((e) => ({
            id: e.experimentId,
            name: e.name,
            stage: e.lifecycleStage,
            artifactLocation: e.artifactLocation,
            created: e.creationTime,
            updated: e.lastUpdateTime,
            tags: Object.fromEntries(e.tags.map((t) => [t.key, t.value])),
          })),
        };
      });

      ui.get('/api/runs', async (req) => {
        const q = req.query;
        return searchRunsPage(store, {
          experimentIds: list(q, 'experiment_ids'),
          filter: str(q, 'filter'),
          orderBy: list(q, 'order_by'),
          pageToken: str(q, 'page_token'),
          maxResults: int(q, 'max_results', 50),
          nest: str(q, 'nest') !== '0',
          parent: str(q, 'parent'),
        });
      });

      const runOf = async (id: string): Promise<Run> => {
        if (!/^[0-9a-zA-Z_-]{1,64}$/.test(id)) throw bad(`'${id}' is not a run id`);
        return store.getRun(id);
      };

      ui.get('/api/runs/:id', async (req) => {
        const run = await runOf((req.params as { id: string }).id);
        const row = rowOf(run);
        const exp = await store.getExperiment(run.info.experimentId);
        return {
          run: { ...row, artifactUri: run.info.artifactUri, lifecycleStage: run.info.lifecycleStage },
          experiment: { id: exp.experimentId, name: exp.name },
          datasets: run.inputs.datasetInputs.map((d) => ({
            name: d.dataset.name,
            digest: d.dataset.digest,
            source: d.dataset.source,
          })),
        };
      });

      ui.get('/api/runs/:id/metric-history', async (req) => {
        const id = (req.params as { id: string }).id;
        const keys = list(req.query, 'keys');
        if (keys.length === 0) throw bad('keys is required: the metric names, comma-separated');
        if (keys.length > 50) throw bad('keys: at most 50 metrics at once');
        await runOf(id);
        const out: Record<string, Array<[number, number, number | string]>> = {};
        for (const key of keys) {
          const points = await collectPages(
            (pageToken) => store.getMetricHistory(id, key, { maxResults: 25_000, pageToken }),
            100_000,
          );
          const pts = points.map((m): [number, number, number | string] => [
            m.step,
            m.timestamp,
            Number.isFinite(m.value) ? m.value : String(m.value),
          ]);
          pts.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
          out[key] = pts;
        }
        return { history: out };
      });

      ui.get('/api/runs/:id/artifacts', async (req) => {
        const run = await runOf((req.params as { id: string }).id);
        const path = str(req.query, 'path') ?? '';
        const files = await opts.artifactsFor(run.info.artifactUri).list(path);
        return { root: run.info.artifactUri, path, files };
      });

      ui.get('/api/runs/:id/artifact', async (req, reply: FastifyReply) => {
        const run = await runOf((req.params as { id: string }).id);
        const path = str(req.query, 'path', true)!;
        const download = str(req.query, 'download') === '1';
        const preview = str(req.query, 'preview') === '1';
        const stream = await opts.artifactsFor(run.info.artifactUri).read(path);
        const name = path.split('/').pop() || 'artifact';
        const { type } = contentTypeOf(name);
        void reply
          .header('Content-Security-Policy', "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'")
          .header('Cache-Control', 'private, no-cache')
          .header(
            'Content-Disposition',
            `${download ? 'attachment' : 'inline'}; filename="${name.replace(/[^\w.-]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
          )
          .type(download ? 'application/octet-stream' : type);
        if (!preview) return reply.send(stream);
        // a preview reads at most PREVIEW_LIMIT bytes and says when it cut
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const c of stream as AsyncIterable<Buffer>) {
          chunks.push(c);
          size += c.length;
          if (size > PREVIEW_LIMIT) {
            (stream as { destroy?: () => void }).destroy?.();
            break;
          }
        }
        const body = Buffer.concat(chunks);
        if (size > PREVIEW_LIMIT) void reply.header('X-Carprice-Truncated', String(PREVIEW_LIMIT));
        return reply.send(body.subarray(0, PREVIEW_LIMIT));
      });

      ui.get('/api/compare', async (req) => {
        const ids = list(req.query, 'ids');
        if (ids.length === 0) throw bad('ids is required: the run ids to compare, comma-separated');
        if (ids.length > MAX_COMPARE) throw bad(`ids: at most ${MAX_COMPARE} runs at once`);
        const runs = await Promise.all(ids.map((id) => runOf(id)));
        return { runs: runs.map(rowOf) };
      });

      // ---------------------------------------------------------------- models
      ui.get('/api/models', async () => {
        const out = await collectPages(
          (pageToken) => store.searchRegisteredModels({ maxResults: 1000, pageToken }),
          10_000,
        );
        return {
          models: out.map((m) => ({
            name: m.name,
            description: m.description ?? '',
            updated: m.lastUpdatedTimestamp,
            aliases: m.aliases,
            latest: m.latestVersions.map((v) => ({ version: v.version, stage: v.currentStage })),
          })),
        };
      });

      ui.get('/api/models/:name', async (req) => {
        const name = (req.params as { name: string }).name;
        const model = await store.getRegisteredModel(name);
        const g = opts.governance;
        let listing;
        let history = null;
        if (g) {
          listing = await g.listModelVersions(name);
          history = await g.history(name);
        } else {
          const versions = (
            await collectPages((pageToken) =>
              store.searchModelVersions({ filter: equalsClause('name', name).clause, maxResults: 1000, pageToken }),
            )
          ).filter((v) => v.name === name);
          listing = {
            name,
            consistent: true,
            note: null,
            versions: versions
              .sort((a, b) => Number(a.version) - Number(b.version))
              .map((v) => ({
                version: v.version,
                stage: v.currentStage,
                aliases: model.aliases.filter((a) => a.version === v.version).map((a) => a.alias),
                runId: v.runId ?? null,
                created: v.creationTimestamp,
                test: v.tags.find((t) => t.key === 'carprice.test.status')?.value ?? null,
                testedAt: v.tags.find((t) => t.key === 'carprice.test.at')?.value ?? null,
                metrics: {},
                promotedBy: null,
                promotedAt: null,
              })),
          };
        }
        return {
          name,
          description: model.description ?? '',
          aliases: model.aliases,
          tags: Object.fromEntries(
            model.tags.filter((t) => !t.key.startsWith('carprice.history.')).map((t) => [t.key, t.value]),
          ),
          listing,
          history,
        };
      });

      /** A JSON or text artifact of a version's run, or null when absent. */
      const versionArtifact = async (runId: string | undefined, path: string, json: boolean) => {
        if (!runId) return null;
        try {
          const run = await store.getRun(runId);
          const stream = await opts.artifactsFor(run.info.artifactUri).read(path);
          const chunks: Buffer[] = [];
          for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
          const text = Buffer.concat(chunks).toString('utf8');
          return json ? (JSON.parse(text) as unknown) : text;
        } catch (e) {
          if (isAppError(e) && ['RESOURCE_DOES_NOT_EXIST', 'NOT_FOUND', 'FILE_NOT_FOUND'].includes(e.code)) return null;
          if (e instanceof SyntaxError) return null;
          throw e;
        }
      };

      ui.get('/api/models/:name/versions/:version', async (req) => {
        const { name, version } = req.params as { name: string; version: string };
        const v = await store.getModelVersion(name, version);
        const [report, card, cardMd] = await Promise.all([
          versionArtifact(v.runId, 'model_test/report.json', true),
          versionArtifact(v.runId, 'model_card/model_card.json', true),
          versionArtifact(v.runId, 'model_card/model_card.md', false),
        ]);
        return {
          version: {
            name: v.name,
            version: v.version,
            stage: v.currentStage,
            runId: v.runId ?? null,
            source: v.source,
            created: v.creationTimestamp,
            description: v.description ?? '',
            tags: Object.fromEntries(v.tags.map((t) => [t.key, t.value])),
          },
          report,
          card,
          cardMarkdown: cardMd,
        };
      });

      ui.get('/api/models/:name/versions/:version/predictions', async (req) => {
        const { name, version } = req.params as { name: string; version: string };
        if (!opts.versionPredictions)
          throw new AppError('NOT_IMPLEMENTED', 'this server cannot score model versions (no test data configured)');
        return opts.versionPredictions(name, version);
      });

      const writer = (req: FastifyRequest): string => {
        if (!opts.governance) throw new AppError('NOT_IMPLEMENTED', 'this server does not manage the registry');
        const user = userOf(req);
        if (!user)
          throw new AppError(
            'PERMISSION_DENIED',
            'promotion from the dashboard needs a signed-in user: start the server with CARPRICE_TRACKING_USERS=user:password',
          );
        return user;
      };
      const reasonOf = (body: unknown): string => {
        const r = (body as { reason?: unknown } | undefined)?.reason;
        if (typeof r !== 'string' || r.trim().length < 3)
          throw bad('reason is required: say in a few words why (it is kept in the promotion history)');
        if (r.length > 500) throw bad('reason: at most 500 characters');
        return r.trim();
      };

      ui.post('/api/models/:name/promote', async (req) => {
        const user = writer(req);
        const name = (req.params as { name: string }).name;
        const body = req.body as { version?: unknown } | undefined;
        const version = body?.version;
        if (typeof version !== 'string' || !/^\d+$/.test(version))
          throw bad('version is required: the version number to promote');
        const event = await opts.governance!.promote(name, version, user, reasonOf(body));
        return { event };
      });

      ui.post('/api/models/:name/rollback', async (req) => {
        const user = writer(req);
        const name = (req.params as { name: string }).name;
        const event = await opts.governance!.rollback(name, user, reasonOf(req.body));
        return { event };
      });

      // ---------------------------------------------------------------- pipeline
      ui.get('/api/pipeline', async () => {
        if (!opts.pipelineDir)
          throw new AppError('NOT_IMPLEMENTED', 'this server has no pipeline (start it in the project directory)');
        if (!existsSync(join(opts.pipelineDir, 'dvc.yaml')))
          throw new AppError(
            'FILE_NOT_FOUND',
            `no dvc.yaml in ${opts.pipelineDir}; start the server in the project directory`,
          );
        return pipelineView(opts.pipelineDir);
      });

      // ---------------------------------------------------------------- monitoring
      ui.get('/api/monitoring', async (req) => {
        const m = opts.monitoring;
        if (!m)
          throw new AppError(
            'NOT_IMPLEMENTED',
            'this server reads no prediction log: the monitoring page is on `carprice up`, `carprice serve --ui` and `carprice tracking serve` started in the project directory',
          );
        const now = Date.now();
        const when = (name: 'since' | 'until', dflt?: string): number | undefined => {
          const text = str(req.query, name) ?? dflt;
          if (text === undefined) return undefined;
          try {
            return parseSince(text, now, name);
          } catch (e) {
            throw bad((e as Error).message);
          }
        };
        const since = when('since', m.defaultWindow)!;
        const until = when('until');
        if (until !== undefined && until <= since) throw bad('until must be later than since');
        const overview = await m.overview({ since, until, now });
        return { ...overview, windowText: str(req.query, 'since') ?? m.defaultWindow, defaultWindow: m.defaultWindow };
      });

      // ---------------------------------------------------------------- predictions
      const predictor = () => {
        if (!opts.predict)
          throw new AppError('NOT_IMPLEMENTED', 'this server has no prediction API to ask (see `carprice up`)');
        return opts.predict;
      };
      ui.get('/api/known-values', async () => {
        if (!opts.knownValues)
          throw new AppError('NOT_IMPLEMENTED', 'this server knows no listings to offer values from');
        return opts.knownValues();
      });
      ui.get('/api/served-model', async (_req, reply) => {
        const r = await predictor().model();
        return reply.status(r.status).send(r.body);
      });
      for (const route of ['predict', 'explain'] as const)
        ui.post(`/api/${route}`, async (req, reply) => {
          const body = req.body;
          if (!body || typeof body !== 'object' || Array.isArray(body))
            throw bad('the body must be one listing as a JSON object');
          const r = await predictor()[route](body as Record<string, unknown>);
          return reply.status(r.status).send(r.body);
        });
    },
    { prefix: '/ui' },
  );
}
