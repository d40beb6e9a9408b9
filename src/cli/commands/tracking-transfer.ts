/**
 * `carprice tracking export` and `carprice tracking import`: move a whole tracking store
 * (experiments, runs with every metric point, logged models, registry, artifacts) between
 * SQLite, PostgreSQL and MLflow servers, directly or through a dump directory.
 */
import { isAbsolute, resolve } from 'node:path';
import { AppError } from '../../core/errors.js';
import type { Command, CommandContext } from '../command.js';
import { openTrackingFromFlags, TRACKING_STORE_HELP, TRACKING_STORE_OPTIONS } from './tracking-flags.js';

function progress(ctx: CommandContext): ((p: { phase: string; done: number }) => void) | undefined {
  if (!ctx.stderr.isTTY) return undefined;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    ctx.stderr.write(`\r${p.phase}: ${p.done} done`);
  };
}

export const trackingExportCommand: Command = {
  name: 'tracking export',
  summary: 'Export a tracking store (runs, metrics history, registry, artifacts) to a dump directory',
  help: `Usage: carprice tracking export --out DIR [--tracking-uri URI]

Writes every experiment, run (params, tags, every metric point, dataset inputs, artifacts),
logged model and registered model (versions, stages, aliases, tags) of the store into DIR.
Resumable: run it again with the same --out after an interruption; finished runs already in
DIR are skipped. DIR is complete once DIR/manifest.json exists.
  --out DIR            the dump directory (new, empty, or an earlier dump to refresh)
${TRACKING_STORE_HELP}
Example: carprice tracking export --tracking-uri sqlite:///.carprice/mlflow.db --out backup/`,
  options: { out: { type: 'string' }, ...TRACKING_STORE_OPTIONS },
  async run(args, ctx) {
    const out = args.values.out;
    if (typeof out !== 'string' || !out.trim())
      throw new AppError('USAGE', 'tracking export needs --out DIR (where the dump is written)');
    const dir = isAbsolute(out) ? out : resolve(ctx.cwd, out);
    const { storeSource } = await import('../../tracking/transfer/source.js');
    const { exportTracking } = await import('../../tracking/transfer/export-tracking.js');
    const t = await openTrackingFromFlags(args, ctx);
    try {
      const r = await exportTracking(storeSource(t), dir, { signal: ctx.signal, onProgress: progress(ctx) });
      if (ctx.stderr.isTTY) ctx.stderr.write('\n');
      ctx.stdout.write(
        `exported ${r.experiments} experiments, ${r.runs} runs (${r.runsSkipped} already there), ${r.loggedModels} logged models, ${r.registeredModels} registered models with ${r.modelVersions} versions, ${r.artifacts} artifact files to ${dir}\n`,
      );
    } finally {
      await t.close();
    }
  },
};

export const trackingImportCommand: Command = {
  name: 'tracking import',
  summary: 'Import a dump directory or another tracking store into this one (idempotent, resumable)',
  help: `Usage: carprice tracking import --from DIR|URI [--tracking-uri URI] [--json]

Copies experiments, runs (params, tags, every metric point, dataset inputs, artifacts,
status and times), logged models and registered models (versions with stages, aliases, tags)
from a dump written by \`carprice tracking export\`, or straight from another store
(sqlite:///old.db, postgresql://..., http(s)://mlflow-server), into the tracking store.
Run it again after an interruption: what was imported is skipped (each imported object is
tagged carprice.import.* with its source id), a half-imported run is imported again.
Run ids are the destination's; version numbers are kept when the destination model has no
other versions. Parent links and version sources are rewritten to the new run ids.
  --from DIR|URI       a dump directory, or the tracking URI of the source store
  --json               print the report as JSON
${TRACKING_STORE_HELP.replace('store to read', 'store to write')}
Example: carprice tracking import --from sqlite:///.carprice/mlflow.db --tracking-uri postgresql://mlflow@db:5432/mlflow`,
  options: { from: { type: 'string' }, json: { type: 'boolean' }, ...TRACKING_STORE_OPTIONS },
  async run(args, ctx) {
    const from = args.values.from;
    if (typeof from !== 'string' || !from.trim())
      throw new AppError('USAGE', 'tracking import needs --from DIR (a dump) or --from URI (a tracking store)');
    const { dumpSource, storeSource } = await import('../../tracking/transfer/source.js');
    const { importTracking } = await import('../../tracking/transfer/import-tracking.js');
    const { openStore } = await import('../../tracking/resolve-store.js');
    const isUri = /^(sqlite|postgres(ql)?|https?):/.test(from);
    const dst = await openTrackingFromFlags(args, ctx);
    const src = isUri ? openStore(from, { env: ctx.env, cwd: ctx.cwd, logger: ctx.logger }) : undefined;
    try {
      if (src && src.uri === dst.uri)
        throw new AppError('USAGE', `--from and the destination are the same store (${src.uri}); nothing to import`);
      const source = src ? storeSource(src) : dumpSource(isAbsolute(from) ? from : resolve(ctx.cwd, from));
      const r = await importTracking(source, dst, { signal: ctx.signal, onProgress: progress(ctx) });
      if (ctx.stderr.isTTY) ctx.stderr.write('\n');
      for (const w of r.warnings) ctx.stderr.write(`warning: ${w}\n`);
      if (args.values.json) {
        ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      ctx.stdout.write(
        `imported from ${source.description}: ${r.experimentsCreated} experiments created (${r.experimentsReused} existed), ${r.runsImported} runs (${r.runsSkipped} already imported, ${r.runsRedone} half-imported redone) with ${r.metricPoints} metric points, ${r.artifacts} artifact files, ${r.loggedModelsImported} logged models, ${r.versionsImported} model versions (${r.versionsSkipped} already imported) in ${r.registeredModels} registered models\n`,
      );
      for (const n of r.renumbered)
        ctx.stdout.write(
          `  ${n.name} version ${n.from} is version ${n.to} here (the model already had other versions)\n`,
        );
    } finally {
      await src?.close();
      await dst.close();
    }
  },
};
