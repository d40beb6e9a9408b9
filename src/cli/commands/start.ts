/**
 * `carprice start` (what `npm start` runs): the main job on a fresh checkout. It pulls the
 * raw data from the default DVC remote when it is not there yet, reproduces the car
 * pipeline in dvc.yaml (ingest -> features -> train + log + register -> evaluate ->
 * Staging), and prints the test metrics and the registry decision.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../core/errors.js';
import type { Command } from '../command.js';
import { PARAMS_OPTIONS, paramsFromFlags, resolvePath } from './params-flags.js';
import { wholeNumberFlag } from '../flag-values.js';

export const startCommand: Command = {
  name: 'start',
  summary: 'The main job: pull the data and reproduce the whole car pipeline',
  help: `Usage: carprice start [--jobs N] [--set KEY=VALUE]...

1. pulls data/cars24_v3.xlsx (or whatever data_source.raw_data names) from the default
   remote in .dvc/config when the file is missing;
2. runs the pipeline in dvc.yaml like \`carprice repro\` (stages whose inputs changed);
3. tests the Staging version (\`carprice model test\`) and promotes it to Production (alias
   champion) when it passes (\`carprice model promote\`), so a fresh clone ends with a
   Production model;
4. prints the test metrics and what happened in the registry.

  -j, --jobs N         run up to N independent stages at once
  --set KEY=VALUE      set a params key before running, repeatable: written into
                       params.yaml (comments kept), which the stages read and dvc.lock
                       records, as \`dvc exp run --set-param\` does
`,
  options: { jobs: { type: 'string', short: 'j' }, ...PARAMS_OPTIONS },
  async run(args, ctx) {
    // The stages are separate processes that read params.yaml ($CARPRICE_PARAMS), so that
    // file is the only way a setting reaches them: --params elsewhere would be ignored.
    if (args.values.params !== undefined)
      throw new AppError(
        'USAGE',
        `--params: carprice start runs the stages of dvc.yaml, which read params.yaml; edit params.yaml (or set CARPRICE_PARAMS for every command) instead of --params ${String(args.values.params)}`,
      );
    const params = await paramsFromFlags(args, ctx);
    const jobs = wholeNumberFlag('jobs', args.values.jobs, 1) ?? 1;
    if (!existsSync(join(ctx.cwd, 'dvc.yaml')))
      throw new AppError('FILE_NOT_FOUND', `no dvc.yaml in ${ctx.cwd}; run carprice start from the project root`);
    const sets = (args.values.set as string[] | undefined) ?? [];
    if (sets.length) {
      const { writeParamOverrides } = await import('../../config/params.js');
      const file = ctx.env.CARPRICE_PARAMS ?? 'params.yaml';
      const changed = writeParamOverrides(resolvePath(ctx, file), sets);
      ctx.stderr.write(
        changed.length
          ? `start: set ${changed.join(', ')} in ${file}\n`
          : `start: ${file} already has the --set values\n`,
      );
    }
    const raw = resolvePath(ctx, params.data_source.raw_data);
    const t0 = performance.now();
    if (!/^[a-z0-9]+:\/\//i.test(raw) && !existsSync(raw) && !ctx.env.CARPRICE_DATA_URL) {
      ctx.stderr.write(`${params.data_source.raw_data} is missing: pulling it from the default remote\n`);
      const { pull, formatMissing } = await import('../../pipeline/transfer.js');
      const r = await pull({
        cwd: ctx.cwd,
        env: ctx.env,
        progressEnabled: ctx.stderr.isTTY && !ctx.env.CI && !ctx.env.NO_COLOR,
        progress: ctx.stderr,
      });
      if (r.fetch.missing.length)
        throw new AppError('CACHE_MISSING', formatMissing(r.fetch.missing, 'the default remote'));
    }
    const { reproduce } = await import('../../pipeline/reproduce.js');
    await reproduce({
      cwd: ctx.cwd,
      jobs,
      stdout: ctx.stderr,
      stderr: ctx.stderr,
      logger: ctx.logger,
      signal: ctx.signal,
      argv1: process.argv[1],
    });
    const { releaseModel } = await import('../../jobs/release-model.js');
    const release = await releaseModel({
      params,
      cwd: ctx.cwd,
      env: ctx.env,
      logger: ctx.logger,
      signal: ctx.signal,
      report: (l) => ctx.stderr.write(l + '\n'),
    });
    const seconds = (performance.now() - t0) / 1000;
    const readJson = <T>(p: string): T => JSON.parse(readFileSync(resolvePath(ctx, p), 'utf8')) as T;
    const m = readJson<Record<string, number>>(join(params.evaluation.output_dir, 'metrics.json'));
    const info = readJson<{ model_name: string; model_version: string }>(
      join(params.evaluation.output_dir, 'evaluation_info.json'),
    );
    const reg = readJson<{ transitioned: boolean; stage: string | null; reason: string }>(
      join(params.model_registration.output_dir, 'registration.json'),
    );
    ctx.stdout.write(
      [
        `pipeline up to date in ${seconds.toFixed(1)} s; model ${info.model_name} v${info.model_version} (${params.model_trainer.algo})`,
        `test metrics: R² ${m.r2.toFixed(4)}  RMSE ${m.rmse.toFixed(0)}  MAE ${m.mae.toFixed(0)}  MAPE ${(100 * m.mape).toFixed(2)}%  MedAPE ${(100 * m.medape).toFixed(2)}%  within10 ${(100 * m.within10).toFixed(1)}%`,
        reg.transitioned
          ? `registry: v${info.model_version} -> ${reg.stage}`
          : `registry: v${info.model_version} not promoted (${reg.reason})`,
        `release: ${release.reason}`,
      ].join('\n') + '\n',
    );
  },
};
