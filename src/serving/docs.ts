/**
 * /docs (Swagger UI) and /docs/json (the OpenAPI document), built on the first request for
 * them rather than at start: @fastify/swagger-ui brings @fastify/static, glob, send and
 * mime, and the OpenAPI document needs every route's full schema (error responses
 * included), none of which the prediction path uses. Keeping them out of start-up is what
 * lets the API answer /ready within half a second of the process starting.
 *
 * The document is made by @fastify/swagger from a Fastify app of its own that declares the
 * API's routes with their full schemas (stub handlers, no validation compiled); the API
 * forwards GET /docs and /docs/* to it through `inject`, so the UI and its assets are
 * exactly what @fastify/swagger-ui serves.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { CARPRICE_VERSION } from '../core/version.js';

/** One API route as the OpenAPI document describes it. */
export interface DocRoute {
  method: 'GET' | 'POST';
  url: string;
  schema: Record<string, unknown>;
}

export interface DocsOptions {
  routes: readonly DocRoute[];
  /** Schemas the routes reference by $id. */
  shared: readonly Record<string, unknown>[];
  /** The prediction routes need a bearer token (adds the security scheme). */
  bearer: boolean;
}

/** The docs app: /docs (UI), /docs/json, /docs/yaml, /docs/static/*. */
export async function buildDocsApp(o: DocsOptions): Promise<FastifyInstance> {
  const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([
    import('@fastify/swagger'),
    import('@fastify/swagger-ui'),
  ]);
  const app = Fastify({ logger: false });
  // the stubs never run: no validator or serializer is worth compiling
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'carprice prediction API',
        version: CARPRICE_VERSION,
        description: 'Used-car listing prices from the registry model.',
      },
      components: o.bearer ? { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } } : {},
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => String((json as { $id?: string }).$id ?? `def-${i}`),
    },
  });
  for (const s of o.shared) app.addSchema(s);
  const stub = async () => ({});
  for (const r of o.routes) app.route({ method: r.method, url: r.url, schema: r.schema, handler: stub });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: false } });
  await app.ready();
  return app;
}

/** Response headers that belong to one connection, not to the content. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);
/** Request headers the docs app may use (conditional requests, content negotiation). */
const FORWARDED = ['accept', 'if-none-match', 'if-modified-since'];

/** A route handler that answers GET /docs* from a docs app built on first use. */
export function docsForwarder(o: () => DocsOptions): {
  handler(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
  close(): Promise<void>;
} {
  let docs: Promise<FastifyInstance> | undefined;
  return {
    async handler(req, reply) {
      docs ??= buildDocsApp(o()).catch((e: unknown) => {
        docs = undefined;
        throw e;
      });
      const app = await docs;
      const headers: Record<string, string> = {};
      for (const h of FORWARDED) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      const res = await app.inject({ method: 'GET', url: req.url, headers });
      for (const [k, v] of Object.entries(res.headers))
        if (v !== undefined && !HOP_BY_HOP.has(k)) void reply.header(k, v);
      return reply.status(res.statusCode).send(res.rawPayload);
    },
    async close() {
      const app = await docs?.catch(() => undefined);
      await app?.close();
    },
  };
}
