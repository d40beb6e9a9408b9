/**
 * The model provider: which model the API serves right now, and how it changes.
 *
 * A source is a registry URI (`models:/Name@alias`, `models:/Name/Production`,
 * `models:/Name/3`, `models:/Name/latest`, `runs:/<id>/model`) read through the tracking
 * client (embedded store or any MLflow server), or a bundle directory. At start the model
 * is loaded and warmed (a few predictions on an example listing); when the registry cannot
 * be reached and a fallback directory is set (CARPRICE_MODEL_DIR, a bundle baked into an
 * image), that bundle serves and the registry is tried again at every poll.
 *
 * Reload (`refresh`, on a timer and on SIGHUP): re-resolve the source; when it names
 * another version (or the bundle file changed), load and warm the new model off to the
 * side, then swap it in with one assignment. A request reads `current` once and uses that
 * model to the end, so no request sees a mix; a model that fails to load or warm is
 * refused, logged, counted, and the old one keeps serving. Reloads never overlap.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError, isAppError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/clock.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { BUNDLE_FILE, ModelBundle } from '../bundle/model-bundle.js';
import type { TrackingClient } from '../tracking/index.js';
import { EXAMPLE_LISTING } from './schemas.js';
import { createPredictor, type Listing, type ServingPredictor } from './predictor.js';

/** Where the served model came from. */
export interface ModelInfo {
  /** Registered model name, or the bundle directory's name. */
  name: string;
  /** Registry version; null for a bundle directory. */
  version: string | null;
  stage: string | null;
  aliases: string[];
  runId: string | null;
  /** The source as configured: a models:/ or runs:/ URI, or a directory. */
  source: string;
  origin: 'registry' | 'directory' | 'fallback';
  loadedAt: string;
}

export interface ServedModel {
  bundle: ModelBundle;
  predictor: ServingPredictor;
  info: ModelInfo;
}

export type ReloadOutcome = 'swapped' | 'unchanged' | 'failed';

export interface ModelProviderOptions {
  /** models:/..., runs:/... or a bundle directory. */
  source: string;
  /** Resolves relative directories. */
  cwd?: string;
  /** Opens the tracking client for registry sources (called once, lazily). */
  openTracking?: () => TrackingClient;
  /** Bundle directory served when the registry cannot be reached at start (CARPRICE_MODEL_DIR). */
  fallbackDir?: string;
  logger?: Logger;
  clock?: Clock;
  /**
   * Builds and proves the predictor of each loaded bundle (default `warm`). The shadow
   * challenger's provider passes one that compiles nothing: that model is priced on its
   * own thread only.
   */
  prepare?: typeof warm;
}

/** Listener told about each reload attempt (metrics and logs hang off it). */
export type ReloadListener = (e: {
  outcome: ReloadOutcome;
  model?: ServedModel;
  previous?: ServedModel;
  error?: unknown;
}) => void;

export function isRegistryUri(source: string): boolean {
  return source.startsWith('models:/') || source.startsWith('runs:/');
}

/** An example listing completed with any other field a bundle requires. */
export function warmupListing(bundle: ModelBundle): Listing {
  const l: Listing = { ...EXAMPLE_LISTING };
  for (const f of bundle.inputSchema.required)
    if (!(f in l)) l[f] = bundle.inputSchema.categorical.includes(f) ? 'unknown' : 1;
  return l;
}

/**
 * Build the predictor and prove it works: the example listing priced alone (thrice) and in
 * a batch, and explained. With `explain: 'later'` (the first load of a starting server) the
 * explanation is warmed just after: /ready needs a price, not TreeSHAP's first run, which
 * costs about as much CPU as the rest of the warm-up; a failure then is logged, and /explain
 * reports it.
 */
export function warm(bundle: ModelBundle, o: { explain?: 'now' | 'later'; logger?: Logger } = {}): ServingPredictor {
  const predictor = createPredictor(bundle);
  const l = warmupListing(bundle);
  let first: number | undefined;
  for (let i = 0; i < 3; i++) {
    const p = predictor.predictOne(l).price;
    first ??= p;
    if (p !== first)
      throw new AppError('MODEL_INVALID', `warm-up failed: the model gave ${first} then ${p} for the same listing`);
  }
  const many = predictor.predictMany([l, l]);
  if (many.length !== 2 || many[0].price !== first)
    throw new AppError(
      'MODEL_INVALID',
      `warm-up failed: a batch of the example listing gave ${many[0]?.price}, one at a time ${first}`,
    );
  if (!(first > 0)) throw new AppError('MODEL_INVALID', `warm-up failed: the example listing was priced ${first}`);
  if (predictor.explain) {
    const explain = predictor.explain.bind(predictor);
    if (o.explain === 'later')
      setTimeout(() => {
        try {
          explain(l);
        } catch (e) {
          o.logger?.warn({ err: errorText(e) }, 'explanation warm-up failed; /explain will report it');
        }
      }, 0).unref();
    else explain(l);
  }
  return predictor;
}

export class ModelProvider {
  private served: ServedModel | undefined;
  private client: TrackingClient | undefined;
  private inFlight: Promise<ReloadOutcome> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private dirStamp: string | undefined;
  private readonly listeners: ReloadListener[] = [];
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(private readonly opts: ModelProviderOptions) {
    this.log = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
  }

  /** A provider already serving `bundle` (tests, `carprice serve --model DIR` after loading). */
  static fromBundle(bundle: ModelBundle, info: Partial<ModelInfo> = {}): ModelProvider {
    const p = new ModelProvider({ source: info.source ?? 'memory' });
    p.served = {
      bundle,
      predictor: warm(bundle),
      info: {
        name: 'model',
        version: null,
        stage: null,
        aliases: [],
        runId: null,
        source: 'memory',
        origin: 'directory',
        loadedAt: new Date().toISOString(),
        ...info,
      },
    };
    return p;
  }

  /** The model serving now (undefined until the first load). Read it once per request. */
  get current(): ServedModel | undefined {
    return this.served;
  }

  onReload(l: ReloadListener): void {
    this.listeners.push(l);
  }

  /** First load (with the fallback directory when the registry fails). Throws when nothing loads. */
  async start(): Promise<ServedModel> {
    const outcome = await this.refresh({ force: true, initial: true });
    if (outcome === 'failed' || !this.served)
      throw this.lastError ?? new AppError('MODEL_NOT_READY', 'no model could be loaded');
    return this.served;
  }

  private lastError: Error | undefined;

  /**
   * Check the source and swap in a new model when it changed (always reload with force).
   * Concurrent calls share one reload.
   */
  refresh(o: { force?: boolean; initial?: boolean } = {}): Promise<ReloadOutcome> {
    this.inFlight ??= this.doRefresh(o).finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** Poll the source every `ms` (0 = never). The timer does not keep the process alive. */
  startPolling(ms: number): void {
    this.stopPolling();
    if (ms > 0) {
      this.timer = setInterval(() => void this.refresh(), ms);
      this.timer.unref();
    }
  }

  stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async close(): Promise<void> {
    this.stopPolling();
    await this.inFlight?.catch(() => undefined);
    await this.client?.close();
    this.client = undefined;
  }

  private emit(e: Parameters<ReloadListener>[0]): void {
    for (const l of this.listeners) l(e);
  }

  private async doRefresh(o: { force?: boolean; initial?: boolean }): Promise<ReloadOutcome> {
    const previous = this.served;
    try {
      const next = isRegistryUri(this.opts.source)
        ? await this.fromRegistry(o.force === true, o.initial === true)
        : await this.fromDirectory(this.opts.source, 'directory', o.force === true, o.initial === true);
      if (!next) return 'unchanged';
      this.served = next;
      this.lastError = undefined;
      this.log.info(
        {
          model: next.info.name,
          version: next.info.version,
          stage: next.info.stage,
          origin: next.info.origin,
          previous: previous?.info.version ?? null,
        },
        'model swapped in',
      );
      this.emit({ outcome: 'swapped', model: next, previous });
      return 'swapped';
    } catch (caught) {
      let e: unknown = caught;
      if (o.initial && isRegistryUri(this.opts.source) && this.opts.fallbackDir) {
        this.log.warn(
          { err: errorText(e), fallback: this.opts.fallbackDir },
          'registry unavailable: serving the fallback bundle',
        );
        try {
          const fb = await this.fromDirectory(this.opts.fallbackDir, 'fallback', true, true);
          this.served = fb!;
          this.emit({ outcome: 'swapped', model: fb, previous });
          return 'swapped';
        } catch (e2) {
          e = new AppError(
            isAppError(e2) ? e2.code : 'MODEL_NOT_READY',
            `${errorText(e)}; and the fallback CARPRICE_MODEL_DIR failed too: ${errorText(e2)}`,
            { cause: e2 },
          );
        }
      }
      this.lastError = e instanceof Error ? e : new AppError('MODEL_NOT_READY', errorText(e));
      this.log.error(
        { err: errorText(e), source: this.opts.source, keeping: previous?.info.version ?? null },
        previous ? 'model reload refused; the old model keeps serving' : 'model load failed',
      );
      this.emit({ outcome: 'failed', error: e, previous });
      return 'failed';
    }
  }

  private tracking(): TrackingClient {
    if (!this.opts.openTracking)
      throw new AppError(
        'CONFIG_INVALID',
        `model ${this.opts.source} is a registry URI but no tracking store is configured`,
      );
    this.client ??= this.opts.openTracking();
    return this.client;
  }

  /** How a model is warmed: a starting server answers /ready before the explainer has run once. */
  private warmOptions(initial: boolean): Parameters<typeof warm>[1] {
    return { explain: initial ? 'later' : 'now', logger: this.log };
  }

  private async fromRegistry(force: boolean, initial: boolean): Promise<ServedModel | undefined> {
    const client = this.tracking();
    const source = this.opts.source;
    let uri = source;
    let info: Omit<ModelInfo, 'loadedAt'>;
    if (source.startsWith('models:/')) {
      const mv = await client.resolveModelVersion(source);
      const cur = this.served?.info;
      if (!force && cur && cur.origin === 'registry' && cur.name === mv.name && cur.version === mv.version)
        return undefined;
      uri = `models:/${mv.name}/${mv.version}`;
      info = {
        name: mv.name,
        version: mv.version,
        stage: mv.currentStage,
        aliases: [...mv.aliases],
        runId: mv.runId ?? null,
        source,
        origin: 'registry',
      };
    } else {
      if (!force && this.served?.info.origin === 'registry') return undefined;
      const r = await client.resolveModelUri(source);
      info = {
        name: r.name ?? 'model',
        version: r.version ?? null,
        stage: null,
        aliases: [],
        runId: r.runId ?? null,
        source,
        origin: 'registry',
      };
    }
    const resolved = await client.resolveModelUri(uri);
    const local = localPath(resolved.artifactUri);
    let bundle: ModelBundle;
    if (local !== undefined && existsSync(join(local, BUNDLE_FILE))) bundle = ModelBundle.load(local);
    else {
      const tmp = await mkdtemp(join(tmpdir(), 'carprice-serve-'));
      try {
        const dir = await client.downloadModel(uri, join(tmp, 'model'));
        bundle = ModelBundle.load(dir);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    }
    return {
      bundle,
      predictor: (this.opts.prepare ?? warm)(bundle, this.warmOptions(initial)),
      info: { ...info, loadedAt: new Date(this.clock.now()).toISOString() },
    };
  }

  private async fromDirectory(
    dir: string,
    origin: 'directory' | 'fallback',
    force: boolean,
    initial: boolean,
  ): Promise<ServedModel | undefined> {
    const path = resolve(this.opts.cwd ?? process.cwd(), dir);
    const file = join(path, BUNDLE_FILE);
    const st = await stat(file).catch(() => undefined);
    if (!st)
      throw new AppError(
        'FILE_NOT_FOUND',
        `no model bundle at ${dir} (expected ${BUNDLE_FILE} in it); train one with \`carprice train --out ${dir}\` or give --model models:/Name@alias`,
      );
    const stamp = `${st.mtimeMs}:${st.size}`;
    if (!force && this.served?.info.origin === origin && stamp === this.dirStamp) return undefined;
    const bundle = ModelBundle.load(path);
    const predictor = (this.opts.prepare ?? warm)(bundle, this.warmOptions(initial));
    this.dirStamp = stamp;
    const name = path.split(/[\\/]/).filter(Boolean).pop() ?? 'model';
    return {
      bundle,
      predictor,
      info: {
        name,
        version: null,
        stage: null,
        aliases: [],
        runId: null,
        source: dir,
        origin,
        loadedAt: new Date(this.clock.now()).toISOString(),
      },
    };
  }
}

function localPath(artifactUri: string): string | undefined {
  if (artifactUri.startsWith('file:')) return fileURLToPath(artifactUri);
  if (!/^[a-z][a-z0-9+.-]*:/i.test(artifactUri)) return artifactUri;
  return undefined;
}

/** One line for a log or a message (never a stack). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
