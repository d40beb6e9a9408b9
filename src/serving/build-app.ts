/**
 * The prediction API as a Fastify app, built without listening (`serve` listens). Routes:
 *   GET  /               service, version, model, links
 *   GET  /health         liveness ({"status":"ok"}, as the original)
 *   GET  /ready          200 once a model is loaded and warm, 503 before
 *   POST /predict        one listing (the original's request body) -> price, interval, model
 *   POST /predict/batch  {listings: [...]} up to `batchLimit`
 *   POST /explain        per-feature contributions
 *   GET  /model          registry facts, metadata, model card
 *   GET  /metrics        Prometheus
 *   GET  /docs           Swagger UI over the OpenAPI document built from the route schemas
 *
 * Every request-caused failure is a 4xx with JSON naming the field and the reason
 * (`{error, message, field, problems}`): schema violations 422 (as FastAPI answered),
 * malformed JSON 400, nested more than 64 deep 400, wrong content type 415, too large 413,
 * missing token 401, rate limit 429. A 5xx means a server fault, logged; the connection is never dropped.
 */
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyBaseLogger,
} from 'fastify';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { AppError, httpStatusOf, isAppError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/clock.js';
import { CARPRICE_VERSION } from '../core/version.js';
import { docsForwarder, type DocRoute } from './docs.js';
import { DEFAULT_RANGES } from '../config/params.js';
import type { PlausibleRanges } from '../data/plausible-ranges.js';
import type { ModelProvider, ServedModel } from './model-provider.js';
import { ServingMetrics } from './metrics.js';
import {
  batchSchema,
  explainSchema,
  healthSchema,
  metricsSchema,
  modelSchema,
  predictSchema,
  readySchema,
  rootSchema,
  sharedSchemas,
} from './schemas.js';
import type { Listing, RowPrediction } from './predictor.js';
import { scalarText } from '../core/text.js';
import { jsonNestingExceeds } from '../core/json-depth.js';
import { serveCompilers } from './json-validator.js';
import type { ObservedPrediction } from '../monitoring/prediction-record.js';

export interface BuildAppOptions {
  provider: ModelProvider;
  /** pino logger for request logs and errors; absent = silent. */
  logger?: FastifyBaseLogger;
  /** One JSON log line per request (method, url, status, ms) at info. Default true. */
  logRequests?: boolean;
  /** Bearer token required on the prediction routes; absent = open. Never logged. */
  apiToken?: string;
  /** Most listings in one /predict/batch request (default 1,000). */
  batchLimit?: number;
  /** Largest request body, bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Requests per minute per client on the prediction routes; 0 = unlimited (default). */
  rateLimitPerMinute?: number;
  /** Longest accepted text field (default 100). */
  maxStringLength?: number;
  /** Plausible ranges of the numeric fields (default: params.yaml's defaults). */
  ranges?: PlausibleRanges;
  clock?: Clock;
  metrics?: ServingMetrics;
  /** The /metrics text (default: `metrics`' registry; a cluster worker asks the primary for every worker's sum). */
  metricsText?: () => Promise<string>;
  /** The cluster worker this app runs in (`GET /` says which one answered); absent = single process. */
  worker?: number;
  /** Serve /docs (Swagger UI). Default true. */
  docs?: boolean;
  /**
   * Told about every priced request (/predict, /predict/batch, /explain) once its answer is
   * computed, before it is sent: the prediction log and shadow scoring hang off it. It must
   * only queue work; a throw is caught and logged. When set, each prediction response carries
   * `x-request-id` (the client's own when it sent a valid one), the key feedback joins on.
   */
  onPrediction?: (e: ObservedPrediction) => void;
  /** More routes on the same server (the CLI mounts the web dashboard at /ui). */
  extend?: (app: FastifyInstance) => Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Deepest nesting of arrays and objects a request body may have (a batch body is 3 deep). */
export const MAX_BODY_DEPTH = 64;
const BODY_TOO_DEEP = 'CARPRICE_BODY_TOO_DEEP';
const BODY_FORBIDDEN_KEY = 'CARPRICE_BODY_FORBIDDEN_KEY';

/**
 * Why Fastify's parser refused a body (it says only "Body is not valid JSON"): JSON.parse's
 * own message, which says where, or, for valid JSON, the prototype-poisoning keys it refuses.
 * Runs only for a refused body.
 */
function invalidJson(text: string): Error {
  try {
    JSON.parse(text);
  } catch (e) {
    return Object.assign(new SyntaxError((e as Error).message), { statusCode: 400 });
  }
  return Object.assign(new Error('forbidden key'), { code: BODY_FORBIDDEN_KEY, statusCode: 400 });
}

/** The request property holding a JSON body's text (set only when `onPrediction` is). */
const RAW_BODY = 'carpriceJsonText';

/** A request's JSON body as it came in, when its text was kept (monitoring on). */
function bodyText(req: FastifyRequest): string | undefined {
  return (req as unknown as Record<typeof RAW_BODY, string | undefined>)[RAW_BODY] || undefined;
}

export interface ProblemField {
  field: string;
  reason: string;
}

/** The JSON body and status of an error response. */
export interface ErrorBody {
  error: string;
  message: string;
  field?: string;
  problems?: ProblemField[];
}

/** `/listings/3/odometer` + missing `year` -> `listings[3].odometer`, `year`. */
function fieldOf(instancePath: string, missing?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (missing) parts.push(missing);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out || '(body)';
}

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
  data?: unknown;
}

function shortValue(v: unknown): string {
  // 1e999 parses to Infinity, which JSON.stringify writes as null
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 37) + '...' : s;
}

function problemsFromValidation(issues: AjvIssue[]): ProblemField[] {
  const out: ProblemField[] = [];
  const seen = new Set<string>();
  for (const i of issues) {
    const missing = i.keyword === 'required' ? scalarText(i.params?.missingProperty ?? '') : undefined;
    const field = fieldOf(i.instancePath ?? '', missing);
    let reason = i.keyword === 'required' ? 'is required' : (i.message ?? 'is invalid');
    if (i.keyword !== 'required' && 'data' in i && i.data !== undefined) reason += `, got ${shortValue(i.data)}`;
    if (i.keyword === 'maximum' && field.endsWith('year')) reason += ' (a year in the future)';
    const key = `${field}\0${reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ field, reason });
  }
  return out;
}

/** `[2].odometer: must not be negative, got -1` -> {field, reason}. */
function problemsFromAppError(e: AppError): ProblemField[] {
  const raw = Array.isArray(e.details?.problems) ? (e.details.problems as unknown[]).map(String) : [e.message];
  return raw.map((p) => {
    const m = /^(\S+?):\s(.*)$/.exec(p);
    return m
      ? { field: m[1].replace(/^\[(\d+)\]\.?/, (_, i: string) => `listings[${i}].`).replace(/\.$/, ''), reason: m[2] }
      : { field: '(body)', reason: p };
  });
}

function problemMessage(problems: ProblemField[]): string {
  const shown = problems.slice(0, 5).map((p) => `${p.field}: ${p.reason}`);
  return shown.join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
}

/** Map any error to the status and JSON body the API answers with. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  const fe = err as FastifyError & { validation?: AjvIssue[] };
  if (Array.isArray(fe?.validation)) {
    const problems = problemsFromValidation(fe.validation);
    return {
      status: 422,
      body: { error: 'invalid_input', message: problemMessage(problems), field: problems[0]?.field, problems },
    };
  }
  if (isAppError(err)) {
    if (err.code === 'INPUT_INVALID') {
      const problems = problemsFromAppError(err);
      return {
        status: 422,
        body: { error: 'invalid_input', message: problemMessage(problems), field: problems[0]?.field, problems },
      };
    }
    const status = httpStatusOf(err.code);
    return { status, body: { error: err.code.toLowerCase(), message: err.message } };
  }
  switch (fe?.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: {
          error: 'unsupported_media_type',
          message: 'send the body as JSON with Content-Type: application/json',
          field: '(content-type)',
        },
      };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        body: { error: 'body_too_large', message: `${fe.message}; send fewer listings per request`, field: '(body)' },
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        status: 400,
        body: { error: 'empty_body', message: 'the request body is empty; send a JSON listing', field: '(body)' },
      };
    case BODY_TOO_DEEP:
      return {
        status: 400,
        body: {
          error: 'body_too_deep',
          message: `the body nests arrays or objects more than ${MAX_BODY_DEPTH} levels deep; a listing is a flat object of numbers and strings`,
          field: '(body)',
        },
      };
    case BODY_FORBIDDEN_KEY:
      return {
        status: 400,
        body: {
          error: 'forbidden_key',
          message:
            'the body has a "__proto__" key, or a "constructor" key holding "prototype", refused as prototype poisoning; remove it',
          field: '(body)',
        },
      };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, body: { error: 'bad_content_length', message: fe.message, field: '(content-length)' } };
  }
  if (fe instanceof SyntaxError || fe?.code === 'FST_ERR_CTP_INVALID_JSON_BODY')
    return {
      status: 400,
      body: { error: 'malformed_json', message: `the body is not valid JSON: ${fe.message}`, field: '(body)' },
    };
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 429)
    return { status, body: { error: 'rate_limited', message: fe.message || 'too many requests; slow down' } };
  if (status >= 400 && status < 500)
    return { status, body: { error: 'bad_request', message: fe.message || 'bad request' } };
  return { status: 500, body: { error: 'internal', message: 'internal error; see the server log' } };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

interface ModelRef {
  name: string;
  version: string | null;
}

/** `{name, version}` of a served model, one object per model (not one per request). */
const refs = new WeakMap<ServedModel, ModelRef>();
function modelRef(m: ServedModel): ModelRef {
  let r = refs.get(m);
  if (!r) refs.set(m, (r = { name: m.info.name, version: m.info.version }));
  return r;
}

function rowJson(r: RowPrediction): Record<string, unknown> {
  return { predicted_price: r.price, interval: r.interval, warnings: r.warnings.length ? r.warnings : undefined };
}

type RouteSchema = { response?: Record<string, unknown> } & Record<string, unknown>;

/**
 * The schema a route is served with: the full one minus the error responses. Those stay in
 * the OpenAPI document, but compiling a serializer for each (seven per prediction route)
 * costs start-up time for bodies the error handler builds and JSON.stringify writes.
 */
function servingSchema<T extends RouteSchema>(s: T): T {
  if (!s.response) return s;
  const ok = s.response['200'] ?? s.response[200];
  return { ...s, response: ok ? { 200: ok } : {} };
}

/** Build the prediction API (not listening). */
export async function buildApp(o: BuildAppOptions): Promise<FastifyInstance> {
  const clock = o.clock ?? systemClock;
  const metrics = o.metrics ?? new ServingMetrics();
  const batchLimit = o.batchLimit ?? 1000;
  const logRequests = o.logRequests ?? true;
  const app = Fastify({
    loggerInstance: o.logger,
    logController: new LogController({ disableRequestLogging: true }),
    // one logger for every request (the request id goes into the lines that need it): a
    // pino child per request is an allocation and a bindings serialisation on the hot path
    childLoggerFactory: (logger) => logger,
    bodyLimit: o.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    // requests validated by the API's own compiled checks, responses by JSON.stringify:
    // neither Ajv nor fast-json-stringify is loaded at start (json-validator.ts)
    schemaController: { compilersFactory: serveCompilers() },
    // Ajv's options, for a schema outside json-validator's subset (none of the API's own)
    ajv: {
      customOptions: {
        coerceTypes: false,
        allErrors: true,
        verbose: true,
        removeAdditional: false,
        useDefaults: false,
      },
    },
  });
  // JSON only: a text/plain body is refused with 415 rather than reaching the schema as a string
  app.removeContentTypeParser('text/plain');
  // Fastify's own JSON parser (the same checks and errors) behind a nesting check: a body of
  // `[[[...]]]` thousands deep parses, then overflows the stack in whatever walks it next
  // (validation, an error message, the log's hand-off to its writer thread), so it is refused
  // here. With monitoring on, the JSON text of a body is kept beside its parse, so a listing
  // reaches the shadow challenger's thread as the bytes that came in, never serialised again
  // on this thread.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const keepText = Boolean(o.onPrediction);
  app.removeContentTypeParser('application/json');
  if (keepText) app.decorateRequest(RAW_BODY, '');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (jsonNestingExceeds(text, MAX_BODY_DEPTH)) {
      done(Object.assign(new Error('body nested too deep'), { code: BODY_TOO_DEEP, statusCode: 400 }), undefined);
      return;
    }
    if (keepText) (req as unknown as Record<typeof RAW_BODY, string>)[RAW_BODY] = text;
    void parseJson(req, text, (err, value) =>
      err && (err as FastifyError).code === 'FST_ERR_CTP_INVALID_JSON_BODY'
        ? done(invalidJson(text), undefined)
        : done(err, value),
    );
  });

  const provider = o.provider;
  if (provider.current) metrics.setModel(provider.current.info);
  provider.onReload((e) => {
    if (e.outcome === 'swapped' && e.model) metrics.setModel(e.model.info);
    if (e.outcome !== 'unchanged') metrics.reloads.inc({ outcome: e.outcome });
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toErrorResponse(err);
    if (status >= 500) req.log.error({ err, reqId: req.id, url: req.url }, 'request failed');
    void reply.status(status).type('application/json').send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .status(404)
      .type('application/json')
      .send({
        error: 'not_found',
        message: `no route ${req.method} ${req.url.split('?')[0]}; the API is described at /docs`,
      });
  });

  const log = logRequests && o.logger ? o.logger : undefined;
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const ms = reply.elapsedTime;
    metrics.observe(req.method, route, status, ms / 1000);
    if (log)
      log.info(
        { reqId: req.id, method: req.method, url: req.url, route, status, ms: Math.round(ms * 100) / 100 },
        'request',
      );
    done();
  });

  const token = o.apiToken;
  const authHook = (req: FastifyRequest, reply: FastifyReply, done: (e?: Error) => void) => {
    const h = req.headers.authorization;
    if (token && !(typeof h === 'string' && h.startsWith('Bearer ') && sameSecret(h.slice(7), token))) {
      void reply.status(401).header('WWW-Authenticate', 'Bearer').type('application/json').send({
        error: 'unauthorized',
        message: 'this route needs Authorization: Bearer <token> (the CARPRICE_API_TOKEN the server was started with)',
        field: '(authorization)',
      });
      return;
    }
    done();
  };

  const maxYear = new Date(clock.now()).getUTCFullYear();
  const shared = sharedSchemas({
    maxStringLength: o.maxStringLength ?? 100,
    maxYear,
    ranges: o.ranges ?? DEFAULT_RANGES,
  });
  for (const s of shared) app.addSchema(s);
  // every route with its full schema, for the OpenAPI document /docs builds on first use
  const docRoutes: DocRoute[] = [];
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    const full = (r.config as { docSchema?: Record<string, unknown> } | undefined)?.docSchema;
    for (const method of methods)
      if ((method === 'GET' || method === 'POST') && full)
        docRoutes.push({ method: method as 'GET' | 'POST', url: r.url, schema: full });
  });

  if ((o.rateLimitPerMinute ?? 0) > 0) {
    const { default: rateLimit } = await import('@fastify/rate-limit');
    await app.register(rateLimit, { global: false });
  }
  const routeConfig =
    (o.rateLimitPerMinute ?? 0) > 0 ? { rateLimit: { max: o.rateLimitPerMinute!, timeWindow: 60_000 } } : {};
  const security = token ? [{ bearerAuth: [] as string[] }] : undefined;
  const predictionRoute = <T extends RouteSchema>(schema: T) => ({
    schema: servingSchema(schema),
    onRequest: token ? authHook : undefined,
    config: { ...routeConfig, docSchema: { ...schema, security } },
  });
  const serviceRoute = <T extends RouteSchema>(schema: T) => ({
    schema: servingSchema(schema),
    config: { docSchema: schema },
  });

  const ready = (): ServedModel => {
    const m = provider.current;
    if (!m) throw new AppError('MODEL_NOT_READY', 'the model is still loading; retry when GET /ready answers 200');
    return m;
  };
  const countRows = (route: string, rows: RowPrediction[]) => {
    metrics.countPredictions(route, rows.length);
    for (const r of rows) for (const w of r.warnings) metrics.unknownCategories.inc({ field: w.field });
  };
  const onPrediction = o.onPrediction;
  const observe = onPrediction
    ? (
        route: string,
        req: FastifyRequest,
        reply: FastifyReply,
        listings: Listing[],
        rows: RowPrediction[],
        m: ServedModel,
        jsonShape: 'listing' | 'batch',
      ) => {
        const h = req.headers['x-request-id'];
        const requestId = typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
        void reply.header('x-request-id', requestId);
        try {
          onPrediction({
            route,
            requestId,
            listings,
            // the body's own text (a listing, or a batch body): the shadow challenger parses it
            listingsJson: bodyText(req),
            jsonShape,
            rows,
            model: modelRef(m),
            latencyMs: reply.elapsedTime,
          });
        } catch (err) {
          req.log.warn({ err }, 'prediction observer failed');
        }
      }
    : undefined;

  app.get('/', serviceRoute(rootSchema), async () => {
    const m = provider.current;
    return {
      service: 'carprice',
      version: CARPRICE_VERSION,
      worker: o.worker ?? null,
      model: m ? { name: m.info.name, version: m.info.version, stage: m.info.stage, ready: true } : null,
      links: {
        health: '/health',
        ready: '/ready',
        predict: '/predict',
        batch: '/predict/batch',
        explain: '/explain',
        model: '/model',
        metrics: '/metrics',
        ...(o.extend ? { dashboard: '/ui/' } : {}),
        ...(o.docs !== false ? { docs: '/docs', openapi: '/docs/json' } : {}),
      },
    };
  });

  app.get('/health', serviceRoute(healthSchema), async () => ({ status: 'ok' }));

  app.get('/ready', serviceRoute(readySchema), async (_req, reply) => {
    const m = provider.current;
    if (!m) return reply.status(503).send({ status: 'loading', message: 'the model is loading and warming up' });
    return { status: 'ready', model: modelRef(m) };
  });

  // the hot path: one listing in, one object out (serialised by the route's compiled schema)
  app.post('/predict', predictionRoute(predictSchema), (req, reply) => {
    const m = ready();
    const r = m.predictor.predictOne(req.body as Listing);
    metrics.countPredictions('/predict', 1);
    let warnings: RowPrediction['warnings'] | undefined;
    if (r.warnings.length) {
      warnings = r.warnings;
      for (const w of warnings) metrics.unknownCategories.inc({ field: w.field });
    }
    observe?.('/predict', req, reply, [req.body as Listing], [r], m, 'listing');
    return reply.send({ predicted_price: r.price, interval: r.interval, warnings, model: modelRef(m) });
  });

  app.post('/predict/batch', predictionRoute(batchSchema(batchLimit)), async (req, reply) => {
    const m = ready();
    const listings = (req.body as { listings: Listing[] }).listings;
    const rows = m.predictor.predictMany(listings);
    countRows('/predict/batch', rows);
    observe?.('/predict/batch', req, reply, listings, rows, m, 'batch');
    return { predictions: rows.map(rowJson), model: modelRef(m) };
  });

  app.post('/explain', predictionRoute(explainSchema), async (req, reply) => {
    const m = ready();
    if (!m.predictor.explain)
      throw new AppError(
        'NOT_IMPLEMENTED',
        `model ${m.info.name} v${m.info.version ?? '-'} cannot explain its predictions`,
      );
    const listing = req.body as Listing;
    const e = m.predictor.explain(listing);
    const r = m.predictor.predictOne(listing);
    countRows('/explain', [r]);
    observe?.('/explain', req, reply, [listing], [r], m, 'listing');
    return {
      predicted_price: r.price,
      base_value: e.base,
      scale: e.scale,
      contributions: e.contributions,
      warnings: r.warnings.length ? r.warnings : undefined,
      model: modelRef(m),
    };
  });

  app.get('/model', serviceRoute(modelSchema), async () => {
    const m = ready();
    const meta = m.bundle.metadata;
    return {
      name: m.info.name,
      version: m.info.version,
      stage: m.info.stage,
      aliases: m.info.aliases,
      run_id: m.info.runId,
      source: m.info.source,
      origin: m.info.origin,
      loaded_at: m.info.loadedAt,
      algo: meta.algo,
      created_at: meta.createdAt,
      carprice_version: meta.carpriceVersion,
      training: meta.training,
      metrics: meta.metrics,
      params: meta.params,
      input_schema: m.bundle.inputSchema,
      interval_level: m.predictor.intervalLevel ?? null,
      can_explain: typeof m.predictor.explain === 'function',
      model_card: modelCard(m),
    };
  });

  app.get('/metrics', serviceRoute(metricsSchema), async (_req, reply) => {
    void reply.type(metrics.registry.contentType);
    return o.metricsText ? o.metricsText() : metrics.registry.metrics();
  });

  if (o.docs !== false) {
    const docs = docsForwarder(() => ({ routes: docRoutes, shared, bearer: Boolean(token) }));
    const hidden = { schema: { hide: true } };
    app.get('/docs', hidden, (req, reply) => docs.handler(req, reply));
    app.get('/docs/*', hidden, (req, reply) => docs.handler(req, reply));
    app.addHook('onClose', async () => docs.close());
  }
  if (o.extend) await o.extend(app);
  return app;
}

/** A short model card from the bundle's metadata (what it is, on what data, how good, limits). */
function modelCard(m: ServedModel): Record<string, unknown> {
  const meta = m.bundle.metadata;
  const s = m.bundle.inputSchema;
  return {
    purpose: 'Estimate the listing price (INR) of a used car from its listing fields.',
    model: `${meta.algo} (${m.bundle.members.map((x) => `${x.algo} x${x.weight.toFixed(3)}`).join(' + ')}), target ${m.bundle.targetTransform}`,
    training_data: `${meta.training.rows} listings from ${meta.training.source} (md5 ${meta.training.dataHash})`,
    evaluation: meta.metrics,
    inputs: {
      required: s.required,
      optional: [...s.optionalNumeric, ...s.categorical.filter((c) => !s.required.includes(c))],
    },
    limitations: [
      'Trained on one Indian marketplace; prices elsewhere or in other years may differ.',
      'Makes, models and variants never seen in training are priced from the other fields and flagged with a warning.',
      'Rare luxury cars (one listing of their model) have large errors.',
    ],
  };
}
