/**
 * GET and POST /graphql as MLflow 3.5 serves it for its UI (handlers.py `_graphql`,
 * graphql_schema_extensions.py): the schema of graphql-schema.ts, resolved through the
 * same REST handlers as /api/2.0 (as MLflow resolves through its *_impl functions), and
 * the answer `{"data": ..., "errors": [message, ...] | null}` with status 200.
 *
 * Field values follow protobuf: an unset string reads "", a number 0 (a LongString "0"),
 * a list [] and a message its default; `apiError` is null, a NaN metric value is null.
 * The query bounds are MLflow's (graphql_no_batching.py): depth 10, 1,000 selections,
 * 10 root fields, 10 aliases per level.
 * Deliberate differences: a non-finite metric value is null (MLflow fails the field for
 * ±Infinity); GetMetricHistoryBulkInterval honours maxResults/startStep/endStep given in
 * `input` (MLflow reads them only from the URL query); a query that cannot be parsed is
 * answered in `errors` rather than with a 500.
 * Example: `{"query": "query { mlflowGetRun(input: {runId: \"<id>\"}) { run { info { status } } } }"}`
 * -> `{"data": {"mlflowGetRun": {"run": {"info": {"status": "FINISHED"}}}}, "errors": null}`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import {
  GraphQLError,
  GraphQLScalarType,
  Kind,
  buildSchema,
  execute,
  getNullableType,
  isEnumType,
  isListType,
  isObjectType,
  parse,
  validate,
  type DocumentNode,
  type GraphQLFieldResolver,
  type GraphQLOutputType,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { AppError } from '../../core/errors.js';
import { ENDPOINTS, type EndpointName } from '../protocol/endpoints.js';
import { parseRequest } from '../protocol/fields.js';
import { toWireJson, type Json } from '../protocol/codec.js';
import { handlers, type HandlerContext } from './handlers.js';
import { decodeJsonBody, parseBoundedJson, readBody, requireJsonContentType } from './json-body.js';
import { MLFLOW_GRAPHQL_SDL } from './graphql-schema.js';

const MAX_DEPTH = 10;
const MAX_SELECTIONS = 1000;
const MAX_ROOT_FIELDS = 10;
const MAX_ALIASES = 10;
/** MLflow's bounds for GetMetricHistoryBulkInterval (handlers.py). */
const MAX_RUNS_BULK = 100;
const MAX_RESULTS_PER_RUN = 2500;

function buildMlflowSchema() {
  const schema = buildSchema(MLFLOW_GRAPHQL_SDL);
  // LongString: int64 as a string, so JavaScript keeps every digit (graphql_custom_scalars.py).
  Object.assign(schema.getType('LongString') as GraphQLScalarType, {
    serialize: (v: unknown) => String(v),
    parseValue: (v: unknown) => {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new GraphQLError(`LongString cannot represent ${JSON.stringify(v)}`);
      return n;
    },
    parseLiteral: (node: ValueNode) =>
      node.kind === Kind.INT || node.kind === Kind.STRING ? Number(node.value) : undefined,
  });
  return schema;
}

/** The problem with a query's shape, as graphql_no_batching.check_query_safety words it, or undefined. */
export function querySafetyError(doc: DocumentNode): string | undefined {
  let rootFields = 0;
  let maxAliases = 0;
  let total = 0;
  for (const def of doc.definitions) {
    const set = (def as { selectionSet?: SelectionSetNode }).selectionSet;
    if (!set) continue;
    const stack: [SelectionSetNode, number][] = [[set, 1]];
    while (stack.length) {
      const [s, depth] = stack.pop()!;
      if (depth > MAX_DEPTH) return `Query exceeds maximum depth of ${MAX_DEPTH}`;
      let aliases = 0;
      for (const sel of s.selections) {
        if (sel.kind !== Kind.FIELD) continue;
        if (depth === 1) rootFields++;
        if (sel.alias) aliases++;
        if (sel.selectionSet) stack.push([sel.selectionSet, depth + 1]);
        if (++total > MAX_SELECTIONS) return `Query exceeds maximum total selections of ${MAX_SELECTIONS}`;
      }
      maxAliases = Math.max(maxAliases, aliases);
    }
  }
  const over = (what: string, limit: number, got: number, env: string) =>
    `GraphQL queries should have at most ${limit} ${what}, got ${got} ${what}. To increase the limit, set the ${env} environment variable.`;
  if (rootFields > MAX_ROOT_FIELDS)
    return over('root fields', MAX_ROOT_FIELDS, rootFields, 'MLFLOW_SERVER_GRAPHQL_MAX_ROOT_FIELDS');
  if (maxAliases > MAX_ALIASES) return over('aliases', MAX_ALIASES, maxAliases, 'MLFLOW_SERVER_GRAPHQL_MAX_ALIASES');
  return undefined;
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** A GraphQL input object (camelCase) as a REST request (snake_case), nulls dropped. */
function restInput(input: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((input ?? {}) as Record<string, unknown>))
    if (v !== null && v !== undefined) out[snake(k)] = v;
  return out;
}

/** What protobuf answers for an unset field of this type. */
function protoDefault(type: GraphQLOutputType): unknown {
  const t = getNullableType(type);
  if (isListType(t)) return [];
  if (isObjectType(t)) return {};
  if (isEnumType(t)) return t.getValues()[0]?.value ?? null;
  switch ((t as GraphQLScalarType).name) {
    case 'String':
    case 'ID':
      return '';
    case 'Boolean':
      return false;
    default:
      return 0;
  }
}

const fieldResolver: GraphQLFieldResolver<unknown, HandlerContext> = (source, args, context, info) => {
  const o = (source ?? {}) as Record<string, unknown>;
  let v = o[info.fieldName];
  if (v === undefined) v = o[snake(info.fieldName)];
  if (typeof v === 'function') return (v as (a: unknown, c: unknown) => unknown).call(o, args, context);
  if (info.fieldName === 'apiError') return null;
  if (info.fieldName === 'value' && info.parentType.name.startsWith('MlflowMetric'))
    return typeof v === 'string' || v === undefined ? null : v;
  if (v === undefined || v === null) return protoDefault(info.returnType);
  return v;
};

async function rest(name: EndpointName, input: unknown, ctx: HandlerContext): Promise<Json> {
  const handler = handlers[name] as (req: unknown, c: HandlerContext) => Promise<Json>;
  return handler(parseRequest(ENDPOINTS[name].fields, restInput(input)), ctx);
}

/** A run (wire JSON) with the extension fields of MlflowRunExtension. */
function runExtension(run: Json, ctx: HandlerContext): Json {
  const info = (run.info ?? {}) as Json;
  return {
    ...run,
    experiment: async () => (await rest('getExperiment', { experimentId: info.experiment_id }, ctx)).experiment,
    modelVersions: async () =>
      (await rest('searchModelVersions', { filter: `run_id='${String(info.run_id)}'` }, ctx)).model_versions ?? [],
  };
}

/** MLflow's abstract_store.get_metric_history_bulk_interval: sample steps, keep each run's min and max. */
async function metricHistoryBulkInterval(
  input: Record<string, unknown>,
  query: Record<string, unknown>,
  ctx: HandlerContext,
): Promise<Json> {
  const runIds = Array.isArray(input.run_ids) ? input.run_ids.map(String) : [];
  const key = typeof input.metric_key === 'string' ? input.metric_key : '';
  if (runIds.length > MAX_RUNS_BULK)
    throw new AppError(
      'INVALID_PARAMETER_VALUE',
      `GetMetricHistoryBulkInterval request must specify at most ${MAX_RUNS_BULK} run_ids. Received ${runIds.length} run_ids.`,
    );
  const int = (v: unknown, name: string) => {
    if (v === undefined || v === null || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n))
      throw new AppError('INVALID_PARAMETER_VALUE', `Invalid value ${JSON.stringify(v)} for parameter '${name}'.`);
    return n;
  };
  const maxResults = int(input.max_results ?? query.max_results, 'max_results') ?? MAX_RESULTS_PER_RUN;
  if (maxResults < 1 || maxResults > MAX_RESULTS_PER_RUN)
    throw new AppError('INVALID_PARAMETER_VALUE', `max_results must be between 1 and ${MAX_RESULTS_PER_RUN}.`);
  let start = int(input.start_step ?? query.start_step, 'start_step');
  let end = int(input.end_step ?? query.end_step, 'end_step');
  if ((start === undefined) !== (end === undefined))
    throw new AppError(
      'INVALID_PARAMETER_VALUE',
      'If either start step or end step are specified, both must be specified.',
    );
  if (start !== undefined && end !== undefined && start > end)
    throw new AppError(
      'INVALID_PARAMETER_VALUE',
      `end_step must be greater than start_step. Found start_step=${start} and end_step=${end}.`,
    );

  const histories = await Promise.all(runIds.map(async (id) => (await ctx.store.getMetricHistory(id, key, {})).items));
  const bounds = new Set<number>();
  const all = new Set<number>();
  for (const h of histories) {
    if (!h.length) continue;
    const steps = h.map((m) => m.step);
    bounds.add(Math.min(...steps)).add(Math.max(...steps));
    for (const s of steps) all.add(s);
  }
  const allSteps = [...all].sort((a, b) => a - b);
  if (start === undefined || end === undefined) {
    start = 0;
    end = allSteps.length ? allSteps[allSteps.length - 1] : 0;
  }
  const lo = start;
  const hi = end;
  const inRange = allSteps.filter((s) => s >= lo && s <= hi);
  let sampled: Set<number>;
  if (inRange.length <= maxResults) sampled = new Set(inRange);
  else {
    sampled = new Set();
    const interval = inRange.length / maxResults;
    for (let i = 0; i < maxResults; i++) sampled.add(inRange[Math.floor(i * interval)]);
    sampled.add(inRange[inRange.length - 1]);
  }
  for (const b of bounds) if (b >= lo && b <= hi) sampled.add(b);
  const metrics: Json[] = [];
  histories.forEach((h, i) => {
    const points = h.filter((m) => sampled.has(m.step)).sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
    for (const m of points)
      metrics.push({
        key: m.key,
        value: Number.isFinite(m.value) ? m.value : 'NaN',
        timestamp: m.timestamp,
        step: m.step,
        run_id: runIds[i],
      });
  });
  return { metrics };
}

export interface GraphqlOptions {
  /** The context the REST handlers run with. */
  ctx: HandlerContext;
  jsonLimit: number;
}

/** Mount GET and POST /graphql. */
export function registerGraphql(app: FastifyInstance, opts: GraphqlOptions): void {
  const schema = buildMlflowSchema();
  const { ctx } = opts;

  const rootFor = (query: Record<string, unknown>) => {
    const searchRuns = async ({ input }: { input?: unknown }) => {
      const out = await rest('searchRuns', input, ctx);
      return { ...out, runs: ((out.runs ?? []) as Json[]).map((r) => runExtension(r, ctx)) };
    };
    return {
      mlflowGetExperiment: ({ input }: { input?: unknown }) => rest('getExperiment', input, ctx),
      mlflowGetRun: async ({ input }: { input?: unknown }) => {
        const out = await rest('getRun', input, ctx);
        return { run: runExtension(out.run as Json, ctx) };
      },
      mlflowSearchRuns: searchRuns,
      mlflowListArtifacts: ({ input }: { input?: unknown }) => rest('listArtifacts', input, ctx),
      mlflowSearchModelVersions: ({ input }: { input?: unknown }) => rest('searchModelVersions', input, ctx),
      mlflowGetMetricHistoryBulkInterval: ({ input }: { input?: unknown }) =>
        metricHistoryBulkInterval(restInput(input), query, ctx),
      mlflowSearchDatasets: () => {
        throw new AppError('NOT_IMPLEMENTED', 'SearchDatasets is not implemented by this server.');
      },
      test: ({ inputString }: { inputString?: string }) => ({ output: inputString ?? null }),
      testMutation: ({ inputString }: { inputString?: string }) => ({ output: inputString ?? null }),
    };
  };

  const run = async (req: FastifyRequest): Promise<{ data: unknown; errors: string[] | null }> => {
    let body: Record<string, unknown>;
    const query = (req.query ?? {}) as Record<string, unknown>;
    if (req.method === 'GET') body = query;
    else {
      requireJsonContentType(req.method, req.headers['content-type'], req.body !== undefined);
      body = decodeJsonBody(await readBody(req.body as Readable | undefined, opts.jsonLimit));
    }
    const text = body.query;
    if (typeof text !== 'string' || text.trim() === '')
      throw new AppError(
        'INVALID_PARAMETER_VALUE',
        "Missing value for required parameter 'query'. See the API docs for more information about request parameters.",
      );
    let variables = body.variables;
    if (typeof variables === 'string')
      variables = variables.trim() === '' ? undefined : parseBoundedJson(variables, "'variables'");
    if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables)))
      throw new AppError(
        'INVALID_PARAMETER_VALUE',
        "Invalid value for parameter 'variables': a JSON object is required.",
      );
    const operationName = typeof body.operationName === 'string' ? body.operationName : undefined;

    let doc: DocumentNode;
    try {
      doc = parse(text, { maxTokens: 10_000 });
    } catch (e) {
      return { data: null, errors: [(e as Error).message] };
    }
    const unsafe = querySafetyError(doc);
    if (unsafe) return { data: null, errors: [unsafe] };
    const invalid = validate(schema, doc);
    if (invalid.length) return { data: null, errors: invalid.map((e) => e.message) };
    const result = await execute({
      schema,
      document: doc,
      rootValue: rootFor(query),
      contextValue: ctx,
      variableValues: (variables ?? undefined) as Record<string, unknown> | undefined,
      operationName,
      fieldResolver,
    });
    return { data: result.data ?? null, errors: result.errors?.length ? result.errors.map((e) => e.message) : null };
  };

  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/graphql',
      handler: async (req, reply) => reply.type('application/json').send(toWireJson(await run(req))),
    });
  }
}
