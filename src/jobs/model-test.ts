/**
 * `carprice model test`: the evidence a version needs before it may serve. On the test
 * listings it checks
 *  - the gates of params.yaml `evaluation` (min R², max RMSE, max MAPE);
 *  - the champion comparison: a paired bootstrap interval of the difference in MAE and in
 *    MAPE against the current Production version on the same rows; a challenger whose
 *    interval lies entirely above zero (significantly worse) fails;
 *  - behavioural checks (model-checks.ts): odometer and year monotonicity, colour
 *    invariance, positive finite prices for every listing and for unseen categories;
 *  - errors by slice (error-slices.ts), flagging slices much worse than overall.
 * The report (JSON), a Markdown summary fit for a pull-request comment and the model card
 * are written locally and stored as artifacts of the version's run, and the outcome is
 * set as version tags (`carprice.test.*`) that `promote` reads. When no registry is
 * reachable the test falls back to the local bundle directory, as the original's did.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { AppError, isAppError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic-write.js';
import { stableStringify } from '../core/stable-json.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import { ModelBundle } from '../bundle/model-bundle.js';
import { regressionMetrics } from '../ml/metrics.js';
import type { ModelVersion, Run } from '../tracking/entities.js';
import { TrackingClient } from '../tracking/client.js';
import { loadListings } from './load-listings.js';
import { dataFingerprint } from './train.js';
import { behaviourChecks, type CheckResult } from './model-checks.js';
import { pairedBootstrap, type DifferenceInterval } from './paired-bootstrap.js';
import { errorSlices, type SliceReport } from './error-slices.js';
import { buildModelCard } from './model-card.js';

export const TEST_TAGS = {
  status: 'carprice.test.status',
  at: 'carprice.test.at',
  champion: 'carprice.test.champion',
  dataHash: 'carprice.test.data_hash',
  failures: 'carprice.test.failures',
} as const;

/** Where the tested model comes from. */
export interface ModelRef {
  name?: string;
  version?: string;
  stage?: string;
  alias?: string;
}

export interface ModelTestOptions extends ModelRef {
  params: Params;
  cwd: string;
  env: Env;
  /** Test listings with prices (default: the data_ingestion output's test.csv). */
  data?: string;
  /** Test this bundle directory instead of a registry version (also the fallback when no registry answers). */
  bundle?: string;
  /** An open client (left open); else one is opened from env / params.yaml and closed. */
  client?: TrackingClient;
  logger?: Logger;
  signal?: AbortSignal;
  clock?: Clock;
  /** Progress lines (stderr in the CLI). */
  report?: (line: string) => void;
}

export interface GateResult {
  name: string;
  value: number;
  threshold: number;
  passed: boolean;
}

export interface ChampionComparison {
  version: string;
  metrics: Record<string, number>;
  /** challenger - champion, INR */
  maeDifference: DifferenceInterval;
  /** challenger - champion, fraction */
  mapeDifference: DifferenceInterval;
  passed: boolean;
  detail: string;
}

export interface ModelTestReport {
  kind: 'carprice-model-test-report';
  formatVersion: 1;
  passed: boolean;
  failures: string[];
  testedAt: string;
  model: {
    name: string | null;
    version: string | null;
    runId: string | null;
    source: 'registry' | 'local';
    bundle: string | null;
    algo: string;
    trainingRows: number;
    trainingDataHash: string;
  };
  data: { source: string; rows: number; dataHash: string };
  metrics: Record<string, number>;
  gates: GateResult[];
  champion: ChampionComparison | null;
  /** Why there was no champion comparison. */
  championNote: string | null;
  behaviour: CheckResult[];
  slices: SliceReport;
}

export interface ModelTestResult {
  report: ModelTestReport;
  summary: string;
  /** Local folder holding report.json, summary.md, model_card.{md,json}. */
  outputDir: string;
  /** Whether the report went to the version's run artifacts and tags. */
  stored: boolean;
}

/** Who is acting: MLFLOW_TRACKING_USERNAME, else the OS user. */
export function currentUser(env: Env): string {
  if (env.MLFLOW_TRACKING_USERNAME) return env.MLFLOW_TRACKING_USERNAME;
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The models:/ URI a reference names (default: the Staging version). */
export function modelUriOf(name: string, ref: ModelRef): string {
  const given = [ref.version, ref.stage, ref.alias].filter((x) => x !== undefined).length;
  if (given > 1) throw new AppError('USAGE', 'give one of --version, --stage or --alias, not several');
  if (ref.version !== undefined) {
    if (!/^\d+$/.test(ref.version))
      throw new AppError('USAGE', `--version must be a version number, got "${ref.version}"`);
    return `models:/${name}/${ref.version}`;
  }
  if (ref.alias !== undefined) return `models:/${name}@${ref.alias}`;
  return `models:/${name}/${ref.stage ?? 'Staging'}`;
}

/** True for the errors that mean "no registry answered" (the local-bundle fallback applies). */
export function isUnreachable(e: unknown): boolean {
  return isAppError(e, 'NETWORK') || isAppError(e, 'DEADLINE_EXCEEDED') || isAppError(e, 'TEMPORARILY_UNAVAILABLE');
}

/** A project path (absolute paths and URLs pass through). */
function inProject(cwd: string, p: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(p) || isAbsolute(p) ? p : join(cwd, p);
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const inr = (x: number) => Math.round(x).toLocaleString('en-US');

function pickMetrics(y: Float64Array, pred: Float64Array): Record<string, number> {
  const m = regressionMetrics(y, pred);
  return { r2: m.r2, rmse: m.rmse, mae: m.mae, mape: m.mape, medape: m.medape, within10: m.within10 };
}

async function withDownloadedBundle<T>(
  client: TrackingClient,
  uri: string,
  use: (b: ModelBundle) => Promise<T> | T,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'carprice-model-'));
  try {
    const local = await client.downloadModel(uri, join(dir, 'model'));
    return await use(ModelBundle.load(local));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Compare per-row errors of the challenger and the champion on the same rows. */
export function compareWithChampion(
  y: Float64Array,
  challenger: Float64Array,
  champion: Float64Array,
  version: string,
  o: { resamples: number; confidence: number; seed: number },
): ChampionComparison {
  const ae = (p: Float64Array) => p.map((v, i) => Math.abs(v - y[i]));
  const ape = (p: Float64Array) => p.map((v, i) => (y[i] !== 0 ? Math.abs(v - y[i]) / Math.abs(y[i]) : 0));
  const maeDifference = pairedBootstrap(ae(challenger), ae(champion), o);
  const mapeDifference = pairedBootstrap(ape(challenger), ape(champion), o);
  const worse: string[] = [];
  if (maeDifference.lower > 0)
    worse.push(
      `MAE +${inr(maeDifference.mean)} INR (${pct(o.confidence)} CI ${inr(maeDifference.lower)}..${inr(maeDifference.upper)})`,
    );
  if (mapeDifference.lower > 0)
    worse.push(
      `MAPE +${(100 * mapeDifference.mean).toFixed(2)} points (${pct(o.confidence)} CI ${(100 * mapeDifference.lower).toFixed(2)}..${(100 * mapeDifference.upper).toFixed(2)})`,
    );
  const passed = worse.length === 0;
  const detail = passed
    ? `not significantly worse than Production v${version}: MAE ${maeDifference.mean >= 0 ? '+' : ''}${inr(maeDifference.mean)} INR [${inr(maeDifference.lower)}, ${inr(maeDifference.upper)}], MAPE ${mapeDifference.mean >= 0 ? '+' : ''}${(100 * mapeDifference.mean).toFixed(2)} points [${(100 * mapeDifference.lower).toFixed(2)}, ${(100 * mapeDifference.upper).toFixed(2)}]`
    : `significantly worse than Production v${version}: ${worse.join('; ')}`;
  return { version, metrics: pickMetrics(y, champion), maeDifference, mapeDifference, passed, detail };
}

/** The Markdown summary of a report (a pull-request comment). */
export function formatTestSummary(r: ModelTestReport): string {
  const mark = (ok: boolean) => (ok ? 'pass' : '**FAIL**');
  const who = r.model.version ? `${r.model.name} v${r.model.version}` : `bundle ${r.model.bundle}`;
  const lines = [
    `## Model test: ${who} ${r.passed ? 'passed' : 'FAILED'}`,
    '',
    `${r.data.rows} test listings (${r.data.source}), ${r.model.algo} trained on ${r.model.trainingRows} listings; tested ${r.testedAt}.`,
    '',
    '| metric | value |',
    '|---|---|',
    `| R² | ${r.metrics.r2.toFixed(4)} |`,
    `| RMSE | ${inr(r.metrics.rmse)} INR |`,
    `| MAE | ${inr(r.metrics.mae)} INR |`,
    `| MAPE | ${pct(r.metrics.mape)} |`,
    `| MedAPE | ${pct(r.metrics.medape)} |`,
    `| within 10% | ${pct(r.metrics.within10)} |`,
    '',
    '| check | result | detail |',
    '|---|---|---|',
    ...r.gates.map(
      (g) =>
        `| gate ${g.name} | ${mark(g.passed)} | ${g.name.startsWith('min') ? '>=' : '<='} ${g.threshold} (got ${g.name.endsWith('rmse') ? inr(g.value) : g.value.toFixed(4)}) |`,
    ),
    r.champion
      ? `| champion comparison | ${mark(r.champion.passed)} | ${r.champion.detail} |`
      : `| champion comparison | skipped | ${r.championNote ?? ''} |`,
    ...r.behaviour.map((c) => `| ${c.name} | ${mark(c.passed)} | ${c.detail} |`),
  ];
  if (r.slices.flagged.length) {
    lines.push(
      '',
      `Slices with MAPE above ${r.slices.flagRatio}x the overall ${pct(r.slices.overall.mape)} (at least ${r.slices.minCount} listings):`,
      '',
    );
    lines.push('| slice | listings | MAPE | MAE |', '|---|---|---|---|');
    for (const s of r.slices.flagged)
      lines.push(`| ${s.column} = ${s.value} | ${s.n} | ${pct(s.mape)} | ${inr(s.mae)} |`);
  } else lines.push('', `No slice has MAPE above ${r.slices.flagRatio}x the overall ${pct(r.slices.overall.mape)}.`);
  if (r.failures.length) lines.push('', 'Failures:', '', ...r.failures.map((f) => `- ${f}`));
  return lines.join('\n') + '\n';
}

/** Run the model test; see the module comment. Never throws for a failing model: `report.passed` says. */
export async function modelTest(o: ModelTestOptions): Promise<ModelTestResult> {
  const p = o.params;
  const clock = o.clock ?? systemClock;
  const name = o.name ?? p.model_registration.model_name;
  const mt = p.model_test;
  const dataPath = inProject(o.cwd, o.data ?? join(p.data_ingestion.output_dir, 'test.csv'));
  const test = await loadListings(dataPath, { params: p, env: o.env, signal: o.signal, requireTarget: true });
  const y = test.y!;

  const client = o.bundle
    ? undefined
    : (o.client ??
      TrackingClient.open({ env: o.env, paramsUri: p.mlflow.tracking_uri, cwd: o.cwd, logger: o.logger, clock }));
  try {
    let version: ModelVersion | undefined;
    let bundleDir = o.bundle ? inProject(o.cwd, o.bundle) : undefined;
    if (client) {
      try {
        version = await client.resolveModelVersion(modelUriOf(name, o));
      } catch (e) {
        if (!isUnreachable(e)) throw e;
        bundleDir = inProject(o.cwd, join(p.model_trainer.output_dir, 'model'));
        o.report?.(
          `model test: no registry answered (${(e as Error).message.split(';')[0]}); testing the local bundle ${bundleDir}`,
        );
      }
    }
    const run = async (bundle: ModelBundle): Promise<ModelTestResult> => {
      const pred = bundle.predictFrame(test.frame);
      const finite = pred.every((x) => Number.isFinite(x));
      const metrics = finite
        ? pickMetrics(y, pred)
        : { r2: NaN, rmse: NaN, mae: NaN, mape: NaN, medape: NaN, within10: NaN };
      const gates: GateResult[] = [
        {
          name: 'min_r2',
          value: metrics.r2,
          threshold: p.evaluation.min_r2,
          passed: metrics.r2 >= p.evaluation.min_r2,
        },
        {
          name: 'max_rmse',
          value: metrics.rmse,
          threshold: p.evaluation.max_rmse,
          passed: metrics.rmse <= p.evaluation.max_rmse,
        },
        {
          name: 'max_mape',
          value: metrics.mape,
          threshold: p.evaluation.max_mape,
          passed: metrics.mape <= p.evaluation.max_mape,
        },
      ];
      let champion: ChampionComparison | null = null;
      let championNote: string | null = null;
      if (!version || !client) championNote = 'no registry: a local bundle has no champion to compare with';
      else {
        let prod: ModelVersion | undefined;
        try {
          prod = await client.resolveModelVersion(`models:/${name}/Production`);
        } catch (e) {
          if (!isAppError(e, 'RESOURCE_DOES_NOT_EXIST')) throw e;
        }
        if (!prod) championNote = 'there is no Production version yet';
        else if (prod.version === version.version) championNote = `v${version.version} is the Production version`;
        else if (!finite) championNote = 'the model gives non-finite prices';
        else {
          o.report?.(`model test: comparing with Production v${prod.version} on the same ${y.length} listings`);
          const champPred = await withDownloadedBundle(client, `models:/${name}/${prod.version}`, (b) =>
            b.predictFrame(test.frame),
          );
          champion = compareWithChampion(y, pred, champPred, prod.version, {
            resamples: mt.bootstrap_resamples,
            confidence: mt.confidence,
            seed: p.base.random_state,
          });
        }
      }
      const behaviour = behaviourChecks(bundle, test.frame, pred, {
        sample: mt.behaviour_sample,
        odometerGrid: mt.odometer_grid,
        monotonicTolerance: mt.monotonic_tolerance,
        colorMaxChange: mt.color_max_change,
        maxViolationRate: mt.max_violation_rate,
        seed: p.base.random_state,
      });
      const slices = errorSlices(test.frame, y, finite ? pred : pred.map((x) => (Number.isFinite(x) ? x : 0)), {
        minCount: mt.slice_min_count,
        flagRatio: mt.slice_flag_ratio,
      });
      const failures = [
        ...gates
          .filter((g) => !g.passed)
          .map(
            (g) =>
              `gate ${g.name}: ${g.name.endsWith('rmse') ? inr(g.value) : g.value.toFixed(4)} against ${g.threshold} (params.yaml evaluation.${g.name})`,
          ),
        ...(champion && !champion.passed ? [`champion comparison: ${champion.detail}`] : []),
        ...behaviour.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`),
      ];
      const report: ModelTestReport = {
        kind: 'carprice-model-test-report',
        formatVersion: 1,
        passed: failures.length === 0,
        failures,
        testedAt: new Date(clock.now()).toISOString(),
        model: {
          name: version ? name : null,
          version: version?.version ?? null,
          runId: version?.runId ?? null,
          source: version ? 'registry' : 'local',
          bundle: version ? null : (bundleDir ?? null),
          algo: bundle.metadata.algo,
          trainingRows: bundle.metadata.training.rows,
          trainingDataHash: bundle.metadata.training.dataHash,
        },
        data: {
          source: o.data ?? join(p.data_ingestion.output_dir, 'test.csv'),
          rows: y.length,
          dataHash: dataFingerprint(test.frame, y),
        },
        metrics,
        gates,
        champion,
        championNote,
        behaviour,
        slices,
      };
      const summary = formatTestSummary(report);
      let runEntity: Run | undefined;
      if (client && version?.runId) runEntity = await client.getRun(version.runId).catch(() => undefined);
      const card = buildModelCard({ report, bundle, run: runEntity, version });
      const outputDir = inProject(o.cwd, join(mt.output_dir, version ? `${name}-v${version.version}` : 'local-bundle'));
      mkdirSync(outputDir, { recursive: true });
      writeFileAtomic(join(outputDir, 'report.json'), stableStringify(report, 2) + '\n');
      writeFileAtomic(join(outputDir, 'summary.md'), summary);
      writeFileAtomic(join(outputDir, 'model_card.json'), stableStringify(card.json, 2) + '\n');
      writeFileAtomic(join(outputDir, 'model_card.md'), card.markdown);
      let stored = false;
      if (client && version) {
        if (version.runId) {
          for (const f of ['report.json', 'summary.md'])
            await client.logArtifact(version.runId, join(outputDir, f), 'model_test');
          for (const f of ['model_card.json', 'model_card.md'])
            await client.logArtifact(version.runId, join(outputDir, f), 'model_card');
        }
        const tags: Record<string, string> = {
          [TEST_TAGS.status]: report.passed ? 'passed' : 'failed',
          [TEST_TAGS.at]: report.testedAt,
          [TEST_TAGS.champion]: champion?.version ?? 'none',
          [TEST_TAGS.dataHash]: report.data.dataHash,
          [TEST_TAGS.failures]: failures.join('; ').slice(0, 4000) || '-',
        };
        for (const [k, v] of Object.entries(tags)) await client.store.setModelVersionTag(name, version.version, k, v);
        stored = true;
      }
      o.report?.(
        `model test: ${version ? `${name} v${version.version}` : bundleDir} ${report.passed ? 'passed' : `FAILED (${failures.length} failure(s))`}; report in ${outputDir}`,
      );
      return { report, summary, outputDir, stored };
    };
    if (version && client) return await withDownloadedBundle(client, `models:/${name}/${version.version}`, run);
    if (!bundleDir) throw new AppError('USAGE', 'nothing to test: give --version/--stage/--alias or --bundle DIR');
    let bundle: ModelBundle;
    try {
      bundle = ModelBundle.load(bundleDir);
    } catch (e) {
      if (isAppError(e, 'FILE_NOT_FOUND'))
        throw new AppError(
          'FILE_NOT_FOUND',
          `no model bundle in ${bundleDir}: run the model_trainer stage (carprice repro) or pass --bundle DIR`,
          { cause: e },
        );
      throw e;
    }
    return await run(bundle);
  } finally {
    if (client && !o.client) await client.close();
  }
}
