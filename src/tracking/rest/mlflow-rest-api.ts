/**
 * The wire half the REST tracking stores share: one MLflow REST 2.0 endpoint call over
 * the retrying HTTP client (GET fields in the query string, JSON bodies otherwise, spec
 * §1.2) and the lenient decoding helpers (missing lists are empty, empty page tokens
 * dropped).
 */
import type { Metric, Page } from '../entities.js';
import { encodeDouble, type Json } from '../protocol/codec.js';
import type { Endpoint } from '../protocol/endpoints.js';
import type { MlflowHttpClient } from './http-client.js';
import { scalarText } from '../../core/text.js';

export function list(x: unknown): Json[] {
  return Array.isArray(x) ? (x as Json[]) : [];
}

export function page<T>(items: T[], token: unknown): Page<T> {
  return typeof token === 'string' && token !== '' ? { items, nextPageToken: token } : { items };
}

export function metricJson(m: Metric): Json {
  const out: Json = { key: m.key, value: encodeDouble(m.value), timestamp: m.timestamp, step: m.step };
  if (m.modelId !== undefined) out.model_id = m.modelId;
  if (m.datasetName !== undefined) out.dataset_name = m.datasetName;
  if (m.datasetDigest !== undefined) out.dataset_digest = m.datasetDigest;
  return out;
}

/** Remove undefined entries so they are not sent. */
export function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** Calls MLflow REST endpoints on one HTTP client. */
export class MlflowRestApi {
  constructor(readonly http: MlflowHttpClient) {}

  /** Call one endpoint: GET sends a query string, every other method a JSON body. */
  async call(endpoint: Endpoint, fields: Record<string, unknown>): Promise<Json> {
    const method = endpoint.methods[0];
    const body = defined(fields);
    // `:name` path parameters are filled from their field, which also stays in the query
    // string / body: MLflow's handlers (finalize, get logged model) read it from there too,
    // as its Python client sends it in both places.
    const path =
      '/api/2.0' +
      endpoint.path.replace(/:([a-z_]+)/g, (_m, name: string) => encodeURIComponent(scalarText(body[name] ?? '')));
    if (method === 'GET') {
      const query: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(body)) query[k] = Array.isArray(v) ? v.map(String) : String(v);
      return this.http.request({ method, path, query });
    }
    return this.http.request({ method, path, json: body });
  }
}
