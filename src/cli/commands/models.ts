/** `carprice models list|show`: the model registry. */
import type { Command } from '../command.js';
import { openTrackingFromFlags, TRACKING_STORE_HELP, TRACKING_STORE_OPTIONS } from './tracking-flags.js';
import { collectPages } from '../../tracking/all-pages.js';

export const modelsListCommand: Command = {
  name: 'models list',
  summary: 'List registered models with their stages and aliases',
  help: `Usage: carprice models list [--filter EXPR] [--json] [--tracking-uri URI]

  --filter EXPR        e.g. "name LIKE 'UsedCar%'"
  --json               print the models as JSON
${TRACKING_STORE_HELP}`,
  options: { filter: { type: 'string' }, json: { type: 'boolean' }, ...TRACKING_STORE_OPTIONS },
  async run(args, ctx) {
    const { textTable, formatTime } = await import('../text-table.js');
    const t = await openTrackingFromFlags(args, ctx);
    try {
      const models = await collectPages((pageToken) =>
        t.store.searchRegisteredModels({
          filter: args.values.filter as string | undefined,
          maxResults: 1000,
          pageToken,
        }),
      );
      if (args.values.json) {
        ctx.stdout.write(JSON.stringify(models, null, 2) + '\n');
        return;
      }
      ctx.stdout.write(
        textTable(
          ['Name', 'Latest versions', 'Aliases', 'Updated'],
          models.map((m) => [
            m.name,
            m.latestVersions.map((v) => `${v.currentStage}:v${v.version}`).join(' ') || '-',
            m.aliases.map((a) => `${a.alias}->v${a.version}`).join(' ') || '-',
            formatTime(m.lastUpdatedTimestamp),
          ]),
        ),
      );
    } finally {
      await t.close();
    }
  },
};

export const modelsShowCommand: Command = {
  name: 'models show',
  summary: 'Show a registered model and its versions',
  help: `Usage: carprice models show NAME [--json] [--tracking-uri URI]

  --json               print the model and its versions as JSON
${TRACKING_STORE_HELP}`,
  options: { json: { type: 'boolean' }, ...TRACKING_STORE_OPTIONS },
  positionals: true,
  async run(args, ctx) {
    const { AppError } = await import('../../core/errors.js');
    const { textTable, formatTime } = await import('../text-table.js');
    const name = args.positionals[0];
    if (!name) throw new AppError('USAGE', 'models show needs a model NAME; find one with `carprice models list`');
    const t = await openTrackingFromFlags(args, ctx);
    try {
      const { equalsClause } = await import('../../tracking/search-filter.js');
      const model = await t.store.getRegisteredModel(name);
      const { clause } = equalsClause('name', name);
      const versions = (
        await collectPages((pageToken) =>
          t.store.searchModelVersions({
            filter: clause,
            orderBy: ['version_number DESC'],
            maxResults: 1000,
            pageToken,
          }),
        )
      ).filter((v) => v.name === name);
      // MLflow's search-model-versions leaves aliases out; the registered model has them all.
      for (const v of versions) v.aliases = model.aliases.filter((a) => a.version === v.version).map((a) => a.alias);
      if (args.values.json) {
        ctx.stdout.write(JSON.stringify({ model, versions }, null, 2) + '\n');
        return;
      }
      ctx.stdout.write(
        `Model ${model.name}${model.description ? ` - ${model.description}` : ''}\n  updated: ${formatTime(model.lastUpdatedTimestamp)}\n\n`,
      );
      ctx.stdout.write(
        textTable(
          ['Version', 'Stage', 'Aliases', 'Run', 'Created', 'Source'],
          versions.map((v) => [
            v.version,
            v.currentStage,
            v.aliases.join(' ') || '-',
            v.runId ?? '-',
            formatTime(v.creationTimestamp),
            v.source,
          ]),
        ),
      );
    } finally {
      await t.close();
    }
  },
};
