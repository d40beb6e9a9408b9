/** `carprice runs list|show`: runs of the tracking store. */
import type { Command } from '../command.js';
import { openTrackingFromFlags, TRACKING_STORE_HELP, TRACKING_STORE_OPTIONS } from './tracking-flags.js';
import { collectPages } from '../../tracking/all-pages.js';
import { wholeNumberFlag } from '../flag-values.js';

export const runsListCommand: Command = {
  name: 'runs list',
  summary: 'List tracking runs, newest first, with their metrics',
  help: `Usage: carprice runs list [--experiment NAME|ID] [--filter EXPR] [--order-by CLAUSE]... [--max N] [--all] [--json] [--tracking-uri URI]

  --experiment  experiment name or id (default: every active experiment)
  --filter      MLflow filter, e.g. "metrics.r2 > 0.9 and params.model = 'gbt'"
  --order-by    e.g. "metrics.rmse ASC" (repeatable)
  --max         at most N runs (default 50)
  --all         include deleted runs
  --json        print the runs as JSON
${TRACKING_STORE_HELP}`,
  options: {
    experiment: { type: 'string' },
    filter: { type: 'string' },
    'order-by': { type: 'string', multiple: true },
    max: { type: 'string', default: '50' },
    all: { type: 'boolean' },
    json: { type: 'boolean' },
    ...TRACKING_STORE_OPTIONS,
  },
  async run(args, ctx) {
    const { isAppError } = await import('../../core/errors.js');
    const { textTable, formatTime } = await import('../text-table.js');
    const max = wholeNumberFlag('max', args.values.max, 1, 50000)!;
    const t = await openTrackingFromFlags(args, ctx);
    try {
      let experimentIds: string[];
      const exp = args.values.experiment as string | undefined;
      if (exp) {
        try {
          experimentIds = [(await t.store.getExperimentByName(exp)).experimentId];
        } catch (e) {
          if (!isAppError(e, 'RESOURCE_DOES_NOT_EXIST') || !/^\d+$/.test(exp)) throw e;
          experimentIds = [(await t.store.getExperiment(exp)).experimentId];
        }
      } else {
        experimentIds = (await t.store.searchExperiments({ maxResults: 50000 })).items.map((e) => e.experimentId);
      }
      const runs = await collectPages(
        (pageToken, seen) =>
          t.store.searchRuns({
            experimentIds,
            filter: args.values.filter as string | undefined,
            orderBy: args.values['order-by'] as string[] | undefined,
            viewType: args.values.all ? 'ALL' : 'ACTIVE_ONLY',
            maxResults: Math.min(max - seen, 1000),
            pageToken,
          }),
        max,
      );
      if (args.values.json) {
        ctx.stdout.write(JSON.stringify(runs, null, 2) + '\n');
        return;
      }
      const metricKeys = [...new Set(runs.flatMap((r) => r.data.metrics.map((m) => m.key)))].sort().slice(0, 6);
      ctx.stdout.write(
        textTable(
          ['Run ID', 'Name', 'Exp', 'Status', 'Started', ...metricKeys],
          runs.map((r) => [
            r.info.runId,
            r.info.runName,
            r.info.experimentId,
            r.info.status,
            formatTime(r.info.startTime),
            ...metricKeys.map((k) => {
              const m = r.data.metrics.find((x) => x.key === k);
              return m ? String(Number(m.value.toPrecision(6))) : '-';
            }),
          ]),
        ),
      );
    } finally {
      await t.close();
    }
  },
};

export const runsShowCommand: Command = {
  name: 'runs show',
  summary: 'Show one run: info, params, metrics, tags',
  help: `Usage: carprice runs show RUN_ID [--json] [--tracking-uri URI]

  --json               print the run as JSON
${TRACKING_STORE_HELP}`,
  options: { json: { type: 'boolean' }, ...TRACKING_STORE_OPTIONS },
  positionals: true,
  async run(args, ctx) {
    const { AppError } = await import('../../core/errors.js');
    const { textTable, formatTime } = await import('../text-table.js');
    const runId = args.positionals[0];
    if (!runId) throw new AppError('USAGE', 'runs show needs a RUN_ID; find one with `carprice runs list`');
    const t = await openTrackingFromFlags(args, ctx);
    try {
      const run = await t.store.getRun(runId);
      if (args.values.json) {
        ctx.stdout.write(JSON.stringify(run, null, 2) + '\n');
        return;
      }
      const i = run.info;
      ctx.stdout.write(
        `Run ${i.runId} (${i.runName})\n  experiment: ${i.experimentId}\n  status: ${i.status} (${i.lifecycleStage})\n  started: ${formatTime(i.startTime)}\n  ended: ${formatTime(i.endTime)}\n  artifacts: ${i.artifactUri}\n\n`,
      );
      if (run.data.params.length)
        ctx.stdout.write(
          'Params\n' +
            textTable(
              ['Key', 'Value'],
              run.data.params.map((p) => [p.key, p.value]),
            ) +
            '\n',
        );
      if (run.data.metrics.length)
        ctx.stdout.write(
          'Metrics\n' +
            textTable(
              ['Key', 'Value', 'Step'],
              run.data.metrics.map((m) => [m.key, String(m.value), String(m.step)]),
            ) +
            '\n',
        );
      const tags = run.data.tags.filter((x) => x.key !== 'mlflow.log-model.history');
      if (tags.length)
        ctx.stdout.write(
          'Tags\n' +
            textTable(
              ['Key', 'Value'],
              tags.map((x) => [x.key, x.value.length > 80 ? x.value.slice(0, 77) + '...' : x.value]),
            ),
        );
    } finally {
      await t.close();
    }
  },
};
