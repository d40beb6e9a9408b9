/** `carprice experiments list`: the experiments of the tracking store. */
import type { Command } from '../command.js';
import { openTrackingFromFlags, TRACKING_STORE_HELP, TRACKING_STORE_OPTIONS } from './tracking-flags.js';
import { collectPages } from '../../tracking/all-pages.js';

export const experimentsListCommand: Command = {
  name: 'experiments list',
  summary: 'List tracking experiments (MLflow-compatible store)',
  help: `Usage: carprice experiments list [--all] [--filter EXPR] [--json] [--tracking-uri URI]

  --all                include deleted experiments
  --filter EXPR        MLflow search filter, e.g. "name LIKE 'car%'"
  --json               print the experiments as JSON
${TRACKING_STORE_HELP}`,
  options: {
    all: { type: 'boolean' },
    filter: { type: 'string' },
    json: { type: 'boolean' },
    ...TRACKING_STORE_OPTIONS,
  },
  async run(args, ctx) {
    const { textTable, formatTime } = await import('../text-table.js');
    const t = await openTrackingFromFlags(args, ctx);
    try {
      const all = await collectPages((pageToken) =>
        t.store.searchExperiments({
          viewType: args.values.all ? 'ALL' : 'ACTIVE_ONLY',
          filter: args.values.filter as string | undefined,
          orderBy: ['experiment_id ASC'],
          maxResults: 1000,
          pageToken,
        }),
      );
      if (args.values.json) {
        ctx.stdout.write(JSON.stringify(all, null, 2) + '\n');
        return;
      }
      ctx.stdout.write(
        textTable(
          ['ID', 'Name', 'Stage', 'Created', 'Artifact location'],
          all.map((e) => [e.experimentId, e.name, e.lifecycleStage, formatTime(e.creationTime), e.artifactLocation]),
        ),
      );
    } finally {
      await t.close();
    }
  },
};
