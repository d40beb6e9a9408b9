/**
 * `carprice exp baseline|compare|tune|show`: tracked experiments, each in its own
 * tracking experiment with one nested run per candidate. Each command maps flags to the
 * function of the same name in jobs/experiments/. A progress bar with ETA is drawn on a
 * terminal; Ctrl-C ends the parent run as KILLED and keeps the finished candidates.
 */
import { AppError } from '../../core/errors.js';
import type { Command, CommandContext, ParsedArgs } from '../command.js';
import { PARAMS_HELP, PARAMS_OPTIONS } from './params-flags.js';
import { openModelClient } from './model.js';
import { join } from 'node:path';
import { wholeNumberFlag } from '../flag-values.js';

const COMMON_OPTIONS = {
  data: { type: 'string' as const },
  experiment: { type: 'string' as const },
  json: { type: 'boolean' as const },
  'tracking-uri': { type: 'string' as const },
  ...PARAMS_OPTIONS,
};
const COMMON_HELP = `  --data FILE          listings with prices (default: data_source.raw_data); the seeded
                       training split is used, the test split stays unseen
  --experiment NAME    tracking experiment (each command has its own default)
  --json               print the result as JSON
  --tracking-uri URI   tracking store (default: $MLFLOW_TRACKING_URI, params.yaml, .carprice/mlflow.db)
${PARAMS_HELP}`;

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

async function setup(args: ParsedArgs, ctx: CommandContext) {
  const { client, params } = await openModelClient(args, ctx);
  const { progressBar } = await import('../progress-bar.js');
  const bar = progressBar(ctx.stderr, ctx.stderr.isTTY && !ctx.env.CI && !ctx.env.NO_COLOR);
  const base = {
    params,
    cwd: ctx.cwd,
    env: ctx.env,
    client,
    data: args.values.data as string | undefined,
    experimentName: args.values.experiment as string | undefined,
    logger: ctx.logger,
    signal: ctx.signal,
    onProgress: bar.update,
    report: (l: string) => {
      bar.clear();
      ctx.stderr.write(l + '\n');
    },
  };
  return { client, params, bar, base };
}

function list(v: unknown): string[] | undefined {
  if (typeof v !== 'string') return undefined;
  const out = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return out.length ? out : undefined;
}

export const expBaselineCommand: Command = {
  name: 'exp baseline',
  summary: 'Experiment: mean predictor and plain OLS (minimal preprocessing) on the test split',
  help: `Usage: carprice exp baseline [--data FILE] [--experiment baseline] [--json]

Fits a mean predictor and plain OLS (imputation, one-hot, scaling only) on the seeded
training split and scores them on the test split: the floor every model must clear.

${COMMON_HELP}`,
  options: COMMON_OPTIONS,
  async run(args, ctx) {
    const { baseline } = await import('../../jobs/experiments/baseline.js');
    const { client, bar, base } = await setup(args, ctx);
    try {
      const r = await baseline(base);
      bar.clear();
      if (args.values.json) ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else
        for (const m of r.models)
          ctx.stdout.write(
            `${m.name.padEnd(16)} R² ${m.metrics.test_r2.toFixed(4)}  RMSE ${m.metrics.test_rmse.toFixed(0)}  MAPE ${pct(m.metrics.test_mape)}\n`,
          );
    } finally {
      bar.clear();
      await client.close();
    }
  },
};

export const expCompareCommand: Command = {
  name: 'exp compare',
  summary: 'Experiment: algorithms x transformations by k-fold CV, nested runs, comparison table',
  help: `Usage: carprice exp compare [--algo A,B,...] [--variants V,...] [--folds 5] [--metric mape] [--data FILE] [--json]

Cross-validates every algorithm (linear, ridge, lasso, elasticnet, tree, forest, gbdt,
blend) with the transformation choices that matter, one at a time from params.yaml:
  default, mean-imputer, target-encoding (categories with > 8 levels), no-scaling,
  raw-target (price instead of log price). A combination whose training and test matrices
  equal an earlier one's on every fold (trees neither impute, one-hot nor scale) is named
  in the table as identical in effect and not fitted again; OLS without scaling is not run
  (OLS is scale-invariant). Each variant's feature pipelines are fitted once per fold for
  every algorithm and all its fits run in one worker pool; forests use 100 trees here.
One nested run per combination under a parent run holding the winner and the comparison
table (artifacts comparison.md and comparison.csv).

  --algo LIST          algorithms (default: all eight)
  --variants LIST      variants (default: all five)
  --folds K            folds (default 5)
  --metric M           winner by mape (default), rmse, mae, medape, r2 or within10
${COMMON_HELP}`,
  options: {
    algo: { type: 'string' },
    variants: { type: 'string' },
    folds: { type: 'string' },
    metric: { type: 'string' },
    ...COMMON_OPTIONS,
  },
  async run(args, ctx) {
    const folds = wholeNumberFlag('folds', args.values.folds, 2) ?? 5;
    const { compare } = await import('../../jobs/experiments/compare.js');
    const { client, bar, base } = await setup(args, ctx);
    try {
      const r = await compare({
        ...base,
        algos: list(args.values.algo),
        variants: list(args.values.variants),
        folds,
        metric: args.values.metric as string | undefined,
      });
      bar.clear();
      if (args.values.json)
        ctx.stdout.write(
          JSON.stringify({ parentRunId: r.parentRunId, metric: r.metric, winner: r.winner, rows: r.rows }, null, 2) +
            '\n',
        );
      else
        ctx.stdout.write(
          `${r.table}\nwinner by CV ${r.metric}: ${r.winner.algo} ${r.winner.variant} (parent run ${r.parentRunId})\n`,
        );
    } finally {
      bar.clear();
      await client.close();
    }
  },
};

export const expTuneCommand: Command = {
  name: 'exp tune',
  summary: 'Experiment: grid + random/successive-halving search of one algorithm; --apply writes params.yaml',
  help: `Usage: carprice exp tune --algo A [--search halving|random|none] [--budget N] [--no-grid] [--metric mape] [--apply]

Scores candidates on a seeded 20% validation part of the training split (features fitted
once, fits spread over the worker threads): first the grid (for gbdt the seed's 27 points,
n_estimators {100,200,300} x max_depth {3,6,10} x learning_rate {0.01,0.1,0.2}), then a
wider search of the same budget: random (N candidates) or successive halving (3N
candidates on 1/9 of the rows, the best third on 1/3, the best ninth on all: the cost of N
full fits). One nested run per candidate; the parent holds the best params.

  --algo A             gbdt, forest, tree, ridge, lasso or elasticnet
  --search KIND        halving (default), random or none
  --budget N           search budget in full fits (default: the grid's size)
  --no-grid            search only
  --metric M           mape (default), rmse, mae, medape, r2 or within10
  --apply              write the winner into params.yaml (model_trainer.params.A), keeping its
                       comments, and say which pipeline stages will rerun
${COMMON_HELP}`,
  options: {
    algo: { type: 'string' },
    search: { type: 'string' },
    budget: { type: 'string' },
    'no-grid': { type: 'boolean' },
    metric: { type: 'string' },
    apply: { type: 'boolean' },
    ...COMMON_OPTIONS,
  },
  async run(args, ctx) {
    const v = args.values;
    if (!v.algo) throw new AppError('USAGE', 'exp tune needs --algo (gbdt, forest, tree, ridge, lasso or elasticnet)');
    const budget = wholeNumberFlag('budget', v.budget, 1);
    const { tune } = await import('../../jobs/experiments/tune.js');
    const { client, bar, base } = await setup(args, ctx);
    let r;
    try {
      r = await tune({
        ...base,
        algo: v.algo as string,
        search: v.search as never,
        budget,
        noGrid: Boolean(v['no-grid']),
        metric: v.metric as string | undefined,
      });
    } finally {
      bar.clear();
      await client.close();
    }
    const lines: string[] = [];
    if (!v.json) {
      lines.push(r.table);
      lines.push(
        `best by validation ${r.metric}: ${Object.entries(r.best.params)
          .map(([k, x]) => `${k}=${x}`)
          .join(
            ' ',
          )} (${r.best.source}): MAPE ${pct(r.best.metrics.mape)}, R² ${r.best.metrics.r2.toFixed(4)}; params.yaml's: MAPE ${pct(r.current.metrics.mape)}, R² ${r.current.metrics.r2.toFixed(4)}`,
      );
    }
    let applied: { written: boolean; changes: unknown[]; rerun: string[]; message: string } | undefined;
    if (v.apply) {
      const { applyTuned } = await import('../../jobs/experiments/apply-params.js');
      const { resolvePath } = await import('./params-flags.js');
      const path = resolvePath(ctx, (v.params as string | undefined) ?? ctx.env.CARPRICE_PARAMS ?? 'params.yaml');
      const outcome = applyTuned(path, r);
      const rerun = outcome.changes.length ? await stagesToRerun(ctx) : [];
      applied = { ...outcome, rerun };
      lines.push(outcome.message);
      if (outcome.changes.length)
        lines.push(
          rerun.length
            ? `\`carprice repro\` will rerun: ${rerun.join(', ')}`
            : 'no pipeline stage depends on these keys (no dvc.yaml here, or its params do not list them)',
        );
    }
    ctx.stdout.write(
      v.json
        ? JSON.stringify(
            {
              parentRunId: r.parentRunId,
              metric: r.metric,
              best: r.best,
              current: r.current,
              candidates: r.candidates,
              applied,
            },
            null,
            2,
          ) + '\n'
        : lines.join('\n') + '\n',
    );
  },
};

/** Stages `carprice repro` would run now and everything downstream of them. */
async function stagesToRerun(ctx: CommandContext): Promise<string[]> {
  const { existsSync } = await import('node:fs');
  if (!existsSync(join(ctx.cwd, 'dvc.yaml'))) return [];
  const { reproduce } = await import('../../pipeline/reproduce.js');
  const sink = { write: () => undefined };
  const first = await reproduce({ cwd: ctx.cwd, dry: true, stdout: sink, stderr: sink, logger: ctx.logger });
  const changed = first.stages.filter((s) => s.outcome === 'dry').map((s) => s.name);
  if (!changed.length) return [];
  const all = await reproduce({
    cwd: ctx.cwd,
    dry: true,
    force: true,
    downstream: true,
    targets: changed,
    stdout: sink,
    stderr: sink,
    logger: ctx.logger,
  });
  return all.stages.map((s) => s.name);
}

export const expShowCommand: Command = {
  name: 'exp show',
  summary: 'Runs of the experiments with params and metrics (nested runs under their parent)',
  help: `Usage: carprice exp show [--experiment NAME] [--sort METRIC] [--limit N] [--json]

  --experiment NAME    one experiment (default: baseline, model-comparison,
                       hyperparameter-tuning and dvc-pipeline-runs, those that exist)
  --sort METRIC        sort by a metric key (e.g. cv_mape, val_mape, test_r2); R² and
                       within10 metrics sort highest first, the others lowest first
  --limit N            at most N runs per experiment (default 1000)
  --json               print the runs as JSON
  --tracking-uri URI   tracking store (default: $MLFLOW_TRACKING_URI, params.yaml, .carprice/mlflow.db)
${PARAMS_HELP}`,
  options: {
    experiment: { type: 'string' },
    sort: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    'tracking-uri': { type: 'string' },
    ...PARAMS_OPTIONS,
  },
  async run(args, ctx) {
    const limit = wholeNumberFlag('limit', args.values.limit, 1);
    const { show } = await import('../../jobs/experiments/show.js');
    const { textTable } = await import('../text-table.js');
    const { client } = await openModelClient(args, ctx);
    try {
      const rows = await show({
        client,
        experiments: list(args.values.experiment),
        sort: args.values.sort as string | undefined,
        limit,
      });
      if (args.values.json) {
        ctx.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        return;
      }
      if (!rows.length) {
        ctx.stdout.write('no runs yet: try `carprice exp baseline` or `carprice exp compare`\n');
        return;
      }
      const byId = new Set(rows.map((r) => r.runId));
      const metricKeys = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))]
        .filter((k) => /r2|mape|rmse/.test(k) && !/_sd$|current_/.test(k))
        .sort()
        .slice(0, 6);
      const paramText = (r: (typeof rows)[number]) =>
        Object.entries(r.params)
          .filter(([k]) => !['data', 'seed'].includes(k))
          .map(([k, x]) => `${k}=${x}`)
          .join(' ');
      ctx.stdout.write(
        textTable(
          ['Experiment', 'Run', 'Status', ...metricKeys, 'Params'],
          rows.map((r) => [
            r.experiment,
            (r.parentRunId && byId.has(r.parentRunId) ? '  └ ' : '') + (r.runName || r.runId),
            r.status,
            ...metricKeys.map((k) =>
              r.metrics[k] === undefined
                ? '-'
                : /mape/.test(k)
                  ? pct(r.metrics[k])
                  : /rmse|mae/.test(k)
                    ? r.metrics[k].toFixed(0)
                    : r.metrics[k].toFixed(4),
            ),
            paramText(r),
          ]),
        ),
      );
    } finally {
      await client.close();
    }
  },
};
