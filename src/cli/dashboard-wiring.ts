/**
 * How the CLI assembles the web dashboard's options for its two hosts: the registry
 * governance (jobs/promotion.ts), the predict form's known values (the ingested training
 * listings, else the raw data) and the prediction side: the same process's /predict and
 * /explain (`carprice up`, through app.inject, so validation and the API token apply
 * exactly as over HTTP) or a prediction API URL (`carprice tracking serve --predict-url`).
 */
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { AppError } from '../core/errors.js';
import type { FastifyInstance } from 'fastify';
import type { Params } from '../config/params.js';
import type { Env } from '../config/env.js';
import type { TrackingClient } from '../tracking/index.js';
import type {
  GovernanceAdapter,
  KnownValues,
  MonitoringAdapter,
  PredictAdapter,
  VersionPredictions,
} from '../dashboard/index.js';

export function governanceAdapter(client: TrackingClient): GovernanceAdapter {
  return {
    async listModelVersions(name) {
      const { listModelVersions } = await import('../jobs/promotion.js');
      return listModelVersions(client, name);
    },
    async history(name) {
      const { promotionHistory } = await import('../jobs/promotion.js');
      return (await promotionHistory(client, name)).map(({ before: _before, ...e }) => e);
    },
    async promote(name, version, user, reason) {
      const { promote } = await import('../jobs/promotion.js');
      const { before: _b, ...e } = await promote({ client, name, version, user, reason });
      return e;
    },
    async rollback(name, user, reason) {
      const { rollback } = await import('../jobs/promotion.js');
      const { before: _b, ...e } = await rollback({ client, name, user, reason });
      return e;
    },
  };
}

/** Known values from the ingested train split, else the raw listings file. */
export async function knownValuesFor(params: Params, cwd: string): Promise<() => Promise<KnownValues>> {
  const { knownValuesFrom } = await import('../dashboard/index.js');
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const ingested = join(abs(params.data_ingestion.output_dir), 'train.csv');
  const raw = params.data_source.raw_data;
  const paths = [ingested, ...(/^[a-z0-9]+:\/\//i.test(raw) ? [] : [abs(raw)])];
  return knownValuesFrom(paths, params.data_source.sheet ?? undefined);
}

/** /predict, /explain and /model of the app the dashboard is mounted on. */
export function injectedPredictor(app: FastifyInstance, env: Env): PredictAdapter {
  const headers: Record<string, string> = env.CARPRICE_API_TOKEN
    ? { authorization: `Bearer ${env.CARPRICE_API_TOKEN}` }
    : {};
  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const r = await app.inject({
      method,
      url,
      headers,
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
    let body: unknown;
    try {
      body = r.json();
    } catch {
      body = { error: 'bad_response', message: r.body.slice(0, 200) };
    }
    return { status: r.statusCode, body };
  };
  return {
    describe: 'this prediction API',
    predict: (l) => call('POST', '/predict', l),
    explain: (l) => call('POST', '/explain', l),
    model: () => call('GET', '/model'),
  };
}

/** A prediction API at `url` (`carprice serve` elsewhere). */
export function remotePredictor(url: string, env: Env): PredictAdapter {
  const base = url.replace(/\/+$/, '');
  const auth: Record<string, string> = env.CARPRICE_API_TOKEN
    ? { authorization: `Bearer ${env.CARPRICE_API_TOKEN}` }
    : {};
  const call = async (method: 'GET' | 'POST', path: string, payload?: unknown) => {
    let r: Response;
    try {
      r = await fetch(base + path, {
        method,
        headers: method === 'POST' ? { ...auth, 'content-type': 'application/json' } : auth,
        body: payload === undefined ? undefined : JSON.stringify(payload),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (e) {
      return {
        status: 503,
        body: {
          error: 'TEMPORARILY_UNAVAILABLE',
          message: `no prediction API answers at ${base} (${(e as Error).message}); start one with \`carprice serve\` or pass --predict-url`,
        },
      };
    }
    let body: unknown;
    try {
      body = await r.json();
    } catch {
      body = { error: 'bad_response', message: `${base}${path} did not answer JSON (status ${r.status})` };
    }
    return { status: r.status, body };
  };
  return {
    describe: `the prediction API at ${base}`,
    predict: (l) => call('POST', '/predict', l),
    explain: (l) => call('POST', '/explain', l),
    model: () => call('GET', '/model'),
  };
}

/**
 * Actual and predicted prices of a registered version on the test split (the data
 * ingestion's test.csv): the version downloaded once to a temp folder and scored; the
 * answer cached per version and test file (a version never changes).
 */
export function versionPredictionsFor(
  client: TrackingClient,
  params: Params,
  cwd: string,
  env: Env,
): (name: string, version: string) => Promise<VersionPredictions> {
  const cache = new Map<string, Promise<VersionPredictions>>();
  return (name, version) => {
    const data = join(
      isAbsolute(params.data_ingestion.output_dir) ? '' : cwd,
      params.data_ingestion.output_dir,
      'test.csv',
    );
    let stamp: string;
    try {
      const s = statSync(data);
      stamp = `${s.mtimeMs}:${s.size}`;
    } catch {
      return Promise.reject(
        new AppError('FILE_NOT_FOUND', `no test listings at ${data}; run \`carprice repro\` to split the data`),
      );
    }
    const key = `${name}\0${version}\0${stamp}`;
    let p = cache.get(key);
    if (!p) {
      p = score(client, params, env, name, version, data);
      cache.set(key, p);
      p.catch(() => cache.delete(key));
      if (cache.size > 20) cache.delete(cache.keys().next().value!);
    }
    return p;
  };
}

async function score(
  client: TrackingClient,
  params: Params,
  env: Env,
  name: string,
  version: string,
  data: string,
): Promise<VersionPredictions> {
  const [{ loadListings }, { ModelBundle }] = await Promise.all([
    import('../jobs/load-listings.js'),
    import('../bundle/model-bundle.js'),
  ]);
  const test = await loadListings(data, { params, env, requireTarget: true });
  const dir = await mkdtemp(join(tmpdir(), 'carprice-ui-model-'));
  try {
    const local = await client.downloadModel(`models:/${name}/${version}`, join(dir, 'model'));
    const pred = ModelBundle.load(local).predictFrame(test.frame);
    const columns: Record<string, string[]> = {};
    for (const c of ['make', 'fuelType', 'bodyType', 'transmissionType'])
      if (test.frame.categorical[c]) columns[c] = test.frame.categorical[c].map((v) => v ?? '(missing)');
    return {
      name,
      version,
      data,
      actual: Array.from(test.y!),
      predicted: Array.from(pred),
      columns,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The monitoring page over the prediction log at `logPath` (monitoring.log_path, or the
 * tracking server's --prediction-log) and the training reference of `model` (the served
 * model, or the registry champion): jobs/monitor-overview.ts, read on a worker thread so
 * the host keeps answering while a large window is read.
 */
export function monitoringAdapter(o: {
  params: Params;
  cwd: string;
  env: Env;
  logPath: string;
  model: string;
  client: () => TrackingClient;
}): MonitoringAdapter {
  let refs: import('../jobs/monitor-overview.js').ServedReferences | undefined;
  return {
    logPath: o.logPath,
    defaultWindow: o.params.monitoring.drift.window,
    async overview(w) {
      const { ServedReferences, monitoringOverviewOffThread } = await import('../jobs/monitor-overview.js');
      refs ??= new ServedReferences({ params: o.params, cwd: o.cwd, env: o.env, client: o.client });
      let served: import('../jobs/monitor-overview.js').MonitoringOverviewOptions['served'] = {
        error: 'no prediction log',
      };
      // no log yet: the page says so without loading the model
      if (existsSync(o.logPath))
        try {
          served = await refs.get(o.model);
        } catch (e) {
          served = { error: `cannot load the model ${o.model} to compare with: ${(e as Error).message}` };
        }
      return monitoringOverviewOffThread({ logPath: o.logPath, served, ...w, params: o.params });
    },
  };
}
