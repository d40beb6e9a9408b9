/**
 * `carprice model test|promote|rollback|list|history`: from a registered version to a
 * trusted Production model. Each maps flags to the function of the same name in
 * jobs/model-test.ts and jobs/promotion.ts.
 */
import type { Command, CommandContext, ParsedArgs } from '../command.js';
import { TRACKING_STORE_HELP, TRACKING_STORE_OPTIONS, trackingUriFromFlags } from './tracking-flags.js';
import type { TrackingClient } from '../../tracking/client.js';

const NAME_OPTIONS = { name: { type: 'string' as const }, json: { type: 'boolean' as const } };
const NAME_HELP = `  --name NAME          registered model (default: model_registration.model_name in params.yaml)
  --json               print JSON instead of text`;

/** The tracking client the flags select, with params.yaml and the model name. */
export async function openModelClient(
  args: ParsedArgs,
  ctx: CommandContext,
): Promise<{ client: TrackingClient; name: string; params: import('../../config/params.js').Params }> {
  const { paramsFromFlags } = await import('./params-flags.js');
  const { openStore } = await import('../../tracking/resolve-store.js');
  const { TrackingClient } = await import('../../tracking/client.js');
  const params = await paramsFromFlags(args, ctx);
  const t = openStore(await trackingUriFromFlags(args, ctx), { env: ctx.env, cwd: ctx.cwd, logger: ctx.logger });
  const client = new TrackingClient({ store: t.store, artifacts: t.artifacts, logger: ctx.logger });
  return { client, name: (args.values.name as string | undefined) ?? params.model_registration.model_name, params };
}

async function user(args: ParsedArgs, ctx: CommandContext): Promise<string> {
  const { currentUser } = await import('../../jobs/model-test.js');
  return (args.values.user as string | undefined) ?? currentUser(ctx.env);
}

export const modelTestCommand: Command = {
  name: 'model test',
  summary: 'Test a model version: gates, champion comparison, behaviour, slices (exit 5 when it fails)',
  help: `Usage: carprice model test [--name M] [--version V | --stage S | --alias A] [--data FILE] [--bundle DIR] [--json]

Tests a registered version (default: the Staging version) on the test listings:
  - the gates in params.yaml evaluation (min_r2, max_rmse, max_mape);
  - a paired bootstrap interval of the MAE and MAPE difference against the Production
    version on the same rows (fails when significantly worse);
  - behaviour: price does not rise with km, does not fall for a newer year, moves little
    with the colour, stays positive and finite (also for unseen makes/models/variants);
  - error by make, fuelType, bodyType, transmissionType and price band (bad slices flagged).
Settings in params.yaml model_test. The JSON report, a Markdown summary and the model card
go to model_test.output_dir and to the version's run artifacts (model_test/, model_card/);
the outcome is tagged on the version (carprice.test.status), which \`model promote\` reads.
Exit code 0 when the model passed, 5 when it failed. When no registry answers, the local
bundle (model_trainer.output_dir/model) is tested instead.

  --version V | --stage S | --alias A   which version (default --stage Staging)
  --data FILE          test listings (default: data_ingestion.output_dir/test.csv)
  --bundle DIR         test a local bundle directory instead of a registry version
${NAME_HELP}
${TRACKING_STORE_HELP}`,
  options: {
    version: { type: 'string' },
    stage: { type: 'string' },
    alias: { type: 'string' },
    data: { type: 'string' },
    bundle: { type: 'string' },
    ...NAME_OPTIONS,
    ...TRACKING_STORE_OPTIONS,
  },
  async run(args, ctx) {
    const v = args.values;
    const { modelTest } = await import('../../jobs/model-test.js');
    const { client, name, params } = await openModelClient(args, ctx);
    try {
      const r = await modelTest({
        params,
        cwd: ctx.cwd,
        env: ctx.env,
        name,
        version: v.version as string | undefined,
        stage: v.stage as string | undefined,
        alias: v.alias as string | undefined,
        data: v.data as string | undefined,
        bundle: v.bundle as string | undefined,
        client,
        logger: ctx.logger,
        signal: ctx.signal,
        report: (l) => ctx.stderr.write(l + '\n'),
      });
      ctx.stdout.write(v.json ? JSON.stringify(r.report, null, 2) + '\n' : r.summary);
      return r.report.passed ? 0 : 5;
    } finally {
      await client.close();
    }
  },
};

export const modelPromoteCommand: Command = {
  name: 'model promote',
  summary: 'Move a tested version to Production (alias champion), archiving the previous one',
  help: `Usage: carprice model promote [--name M] [--version V] [--reason TEXT] [--user WHO]

Only a version whose latest \`carprice model test\` passed against the Production version
still in place is promoted (exit 5 otherwise). The previous Production version(s) go to
Archived; this one goes to Production and gets alias champion (stages and aliases stay in
step, on the embedded store and on any MLflow server). Who, when and why are tagged on the
versions and recorded in \`carprice model history\`.

  --version V          version to promote (default: the latest Staging version)
  --reason TEXT        why (recorded; default: the test it passed)
  --user WHO           who (default: MLFLOW_TRACKING_USERNAME, else the OS user)
${NAME_HELP}
${TRACKING_STORE_HELP}`,
  options: {
    version: { type: 'string' },
    reason: { type: 'string' },
    user: { type: 'string' },
    ...NAME_OPTIONS,
    ...TRACKING_STORE_OPTIONS,
  },
  async run(args, ctx) {
    const { promote } = await import('../../jobs/promotion.js');
    const { client, name } = await openModelClient(args, ctx);
    try {
      const e = await promote({
        client,
        name,
        version: args.values.version as string | undefined,
        reason: args.values.reason as string | undefined,
        user: await user(args, ctx),
      });
      ctx.stdout.write(
        args.values.json
          ? JSON.stringify(e, null, 2) + '\n'
          : `${name} v${e.version} -> Production (alias champion)${e.previous.length ? `; v${e.previous.join(', v')} -> Archived` : ''}; by ${e.by} at ${e.at}: ${e.reason}\n`,
      );
    } finally {
      await client.close();
    }
  },
};

export const modelRollbackCommand: Command = {
  name: 'model rollback',
  summary: 'Undo the latest promotion: Production, champion and tags back as they were',
  help: `Usage: carprice model rollback [--name M] [--reason TEXT] [--user WHO]

Puts back the registry as it was before the latest promotion not yet rolled back: every
version it touched returns to its stage with its promotion tags, and the champion and
challenger aliases point where they did. The rollback itself is tagged on the demoted
version (carprice.rolled_back_*) and recorded in \`carprice model history\`.

  --reason TEXT        why (recorded)
  --user WHO           who (default: MLFLOW_TRACKING_USERNAME, else the OS user)
${NAME_HELP}
${TRACKING_STORE_HELP}`,
  options: { reason: { type: 'string' }, user: { type: 'string' }, ...NAME_OPTIONS, ...TRACKING_STORE_OPTIONS },
  async run(args, ctx) {
    const { rollback } = await import('../../jobs/promotion.js');
    const { client, name } = await openModelClient(args, ctx);
    try {
      const e = await rollback({
        client,
        name,
        reason: args.values.reason as string | undefined,
        user: await user(args, ctx),
      });
      ctx.stdout.write(
        args.values.json
          ? JSON.stringify(e, null, 2) + '\n'
          : `${name} v${e.version} rolled back; Production: ${e.previous.length ? `v${e.previous.join(', v')}` : 'none'}; by ${e.by} at ${e.at}: ${e.reason}\n`,
      );
    } finally {
      await client.close();
    }
  },
};

export const modelListCommand: Command = {
  name: 'model list',
  summary: 'Versions of a model with stages, aliases, test status and test metrics',
  help: `Usage: carprice model list [--name M] [--json]

${NAME_HELP}
${TRACKING_STORE_HELP}`,
  options: { ...NAME_OPTIONS, ...TRACKING_STORE_OPTIONS },
  async run(args, ctx) {
    const { listModelVersions } = await import('../../jobs/promotion.js');
    const { textTable, formatTime } = await import('../text-table.js');
    const { client, name } = await openModelClient(args, ctx);
    try {
      const l = await listModelVersions(client, name);
      if (args.values.json) {
        ctx.stdout.write(JSON.stringify(l, null, 2) + '\n');
        return;
      }
      const f = (x: number | undefined, d: number, scale = 1) => (x === undefined ? '-' : (scale * x).toFixed(d));
      ctx.stdout.write(
        textTable(
          ['Version', 'Stage', 'Aliases', 'Test', 'R²', 'RMSE', 'MAPE %', 'Promoted', 'Created'],
          l.versions.map((r) => [
            r.version,
            r.stage,
            r.aliases.join(' ') || '-',
            r.test ?? '-',
            f(r.metrics.r2, 4),
            f(r.metrics.rmse, 0),
            f(r.metrics.mape, 2, 100),
            r.promotedBy ? `${r.promotedBy} ${r.promotedAt}` : '-',
            formatTime(r.created),
          ]),
        ),
      );
      if (l.note) ctx.stdout.write(`warning: ${l.note}\n`);
    } finally {
      await client.close();
    }
  },
};

export const modelHistoryCommand: Command = {
  name: 'model history',
  summary: 'Every promotion and rollback of a model: who, when, why',
  help: `Usage: carprice model history [--name M] [--json]

${NAME_HELP}
${TRACKING_STORE_HELP}`,
  options: { ...NAME_OPTIONS, ...TRACKING_STORE_OPTIONS },
  async run(args, ctx) {
    const { promotionHistory } = await import('../../jobs/promotion.js');
    const { textTable } = await import('../text-table.js');
    const { client, name } = await openModelClient(args, ctx);
    try {
      const h = await promotionHistory(client, name);
      if (args.values.json) {
        ctx.stdout.write(JSON.stringify(h, null, 2) + '\n');
        return;
      }
      if (!h.length) {
        ctx.stdout.write(`${name} has never been promoted\n`);
        return;
      }
      ctx.stdout.write(
        textTable(
          ['#', 'When', 'Action', 'Version', 'Production before', 'Who', 'Why'],
          h.map((e) => [
            String(e.seq),
            e.at,
            e.action + (e.undoes ? ` #${e.undoes}` : ''),
            `v${e.version}`,
            e.before.versions
              .filter((s) => s.stage === 'Production')
              .map((s) => `v${s.version}`)
              .join(' ') || '-',
            e.by,
            e.reason,
          ]),
        ),
      );
    } finally {
      await client.close();
    }
  },
};
