/**
 * `carprice monitor export|drift|feedback|shadow`: reading the prediction log `carprice
 * serve` writes. Each maps flags to the function of the same name in jobs/monitor*.ts.
 */
import { resolve } from 'node:path';
import type { Command, CommandContext, ParsedArgs } from '../command.js';
import { TRACKING_STORE_HELP, TRACKING_STORE_OPTIONS, trackingUriFromFlags } from './tracking-flags.js';
import { wholeNumberFlag } from '../flag-values.js';
import { resolvePath } from './params-flags.js';

const LOG_OPTIONS = {
  log: { type: 'string' as const },
  since: { type: 'string' as const },
  until: { type: 'string' as const },
  json: { type: 'boolean' as const },
};
const LOG_HELP = `  --log FILE           the prediction log (default: monitoring.log_path in params.yaml)
  --until WHEN         end of the window (default now; same forms as --since)
                       WHEN: 30m, 24h, 7d, 2w back from now; 2026-12-01 or 2026-12-01T08:00
                       (UTC unless a zone is given, e.g. +05:30); now`;

async function common(args: ParsedArgs, ctx: CommandContext, defaultSince: string | null) {
  const { paramsFromFlags } = await import('./params-flags.js');
  const { parseSince } = await import('../../monitoring/time-window.js');
  const { logPathOf } = await import('../../jobs/monitor.js');
  const params = await paramsFromFlags(args, ctx);
  const now = Date.now();
  const v = args.values;
  const sinceText = (v.since as string | undefined) ?? defaultSince ?? undefined;
  const since = sinceText !== undefined ? parseSince(sinceText, now) : undefined;
  const until = v.until !== undefined ? parseSince(v.until as string, now, '--until') : undefined;
  if (since !== undefined && until !== undefined && until <= since) {
    const { AppError } = await import('../../core/errors.js');
    throw new AppError(
      'USAGE',
      `--until (${new Date(until).toISOString()}) must be later than --since (${new Date(since).toISOString()})`,
    );
  }
  return { params, now, since, until, logPath: logPathOf(params, ctx.cwd, v.log as string | undefined) };
}

export const monitorExportCommand: Command = {
  name: 'monitor export',
  summary: 'Write the prediction log (a window of it) as JSON lines',
  help: `Usage: carprice monitor export [--since 7d] [--until WHEN] [--role champion|challenger] [--out FILE]

One JSON object per logged prediction: ts, request_id, row, listing_id, route, role
(champion, or challenger under --shadow), model {name, version}, predicted_price,
interval, latency_ms, inputs (the listing as sent), unseen (fields with a category never
seen in training), error. Oldest first.

  --since WHEN         start: a duration back from now (30m, 24h, 7d, 2w) or an ISO date (default: all)
${LOG_HELP}
  --role ROLE          only champion or challenger rows
  --out FILE           write to FILE (appears whole, or not at all) instead of stdout
  --params FILE, --set KEY=VALUE   params.yaml and overrides`,
  options: {
    ...LOG_OPTIONS,
    role: { type: 'string' },
    out: { type: 'string' },
    params: { type: 'string' },
    set: { type: 'string', multiple: true },
  },
  async run(args, ctx) {
    const { AppError } = await import('../../core/errors.js');
    const { monitorExport } = await import('../../jobs/monitor.js');
    const c = await common(args, ctx, null);
    const role = args.values.role as string | undefined;
    if (role !== undefined && role !== 'champion' && role !== 'challenger')
      throw new AppError('USAGE', `--role must be champion or challenger, got "${role}"`);
    const out = args.values.out as string | undefined;
    const n = monitorExport({
      logPath: c.logPath,
      query: { since: c.since, until: c.until, role },
      out: out ? resolve(ctx.cwd, out) : undefined,
      write: (s) => ctx.stdout.write(s),
    });
    if (out) ctx.stderr.write(`${n} logged prediction(s) written to ${out}\n`);
    else if (n === 0) ctx.stderr.write('no logged predictions in the window\n');
    return 0;
  },
};

export const monitorDriftCommand: Command = {
  name: 'monitor drift',
  summary: "Drift of the logged requests from the model's training data (exit 9 past the alert thresholds)",
  help: `Usage: carprice monitor drift [--since 7d] [--model URI|DIR] [--reference FILE] [--json]

Compares a window of logged requests with the served model's training reference (stored
in the bundle when it was trained):
  - numeric inputs and year: population stability index (PSI) on the training deciles;
  - categorical inputs: PSI of the category shares (values under 1% pooled), the largest
    share changes, and the unseen-category rate beyond what the training data leads to expect;
  - the predictions: PSI of the predicted prices on the training predictions' deciles.
Thresholds and the minimum window are params.yaml monitoring.drift. Exit code 0 when no
score passes an alert threshold (or the window is too small to judge), 9 when one does.

  --since WHEN         window start: 24h, 7d, 2w or an ISO date (default monitoring.drift.window)
${LOG_HELP}
  --model URI|DIR      the model whose training data is the reference (default: serving.model_uri,
                       else models:/<model_name>@champion)
  --reference FILE     profile these training listings instead (for a bundle saved without a
                       reference whose training file moved)
  --json               print the report as JSON
${TRACKING_STORE_HELP}`,
  options: {
    ...LOG_OPTIONS,
    model: { type: 'string' },
    reference: { type: 'string' },
    ...TRACKING_STORE_OPTIONS,
  },
  async run(args, ctx) {
    const { openStore } = await import('../../tracking/resolve-store.js');
    const { TrackingClient } = await import('../../tracking/client.js');
    const { monitorDrift, formatDriftReport, driftExitCode } = await import('../../jobs/monitor.js');
    const c = await common(args, ctx, null);
    const { parseSince } = await import('../../monitoring/time-window.js');
    const since = c.since ?? parseSince(c.params.monitoring.drift.window, c.now, 'monitoring.drift.window');
    if (c.until !== undefined && c.until <= since) {
      const { AppError } = await import('../../core/errors.js');
      throw new AppError(
        'USAGE',
        `--until must be later than the window's start (${new Date(since).toISOString()}); give --since too`,
      );
    }
    const uri = await trackingUriFromFlags(args, ctx);
    const report = await monitorDrift({
      params: c.params,
      cwd: ctx.cwd,
      env: ctx.env,
      logger: ctx.logger,
      logPath: c.logPath,
      model: args.values.model as string | undefined,
      referenceFile: args.values.reference as string | undefined,
      since,
      until: c.until,
      now: c.now,
      openClient: () => {
        const t = openStore(uri, { env: ctx.env, cwd: ctx.cwd, logger: ctx.logger });
        return new TrackingClient({ store: t.store, artifacts: t.artifacts, logger: ctx.logger });
      },
    });
    ctx.stdout.write(args.values.json ? JSON.stringify(report, null, 2) + '\n' : formatDriftReport(report));
    return driftExitCode(report);
  },
};

export const monitorFeedbackCommand: Command = {
  name: 'monitor feedback',
  summary: 'Import sold prices and report the realized accuracy of the logged predictions',
  help: `Usage: carprice monitor feedback FILE [--by day|week|month] [--json]

FILE (.csv or .xlsx) holds what cars sold for: a price column (sold_price, sale_price,
realized_price or price) and a key, request_id (the x-request-id header of the prediction
response, with row for a /predict/batch listing) or listing_id (the listing_id/id the
listing was sent with); sold_at is optional. The entries are stored in the prediction log
(importing a key again replaces it); the report covers every sale imported so far:
realized MAPE and interval coverage overall, by period of the prediction, by model
version and by slice (make, fuelType, bodyType, transmissionType, price band; slices of
fewer than --min-slice sales are left out, those with MAPE above 1.5x overall flagged).

  --by PERIOD          day, week (default) or month
  --min-slice N        smallest slice reported (default 10)
  --log FILE           the prediction log (default: monitoring.log_path in params.yaml)
  --json               print the report as JSON
  --params FILE, --set KEY=VALUE   params.yaml and overrides`,
  positionals: true,
  options: {
    log: { type: 'string' },
    by: { type: 'string' },
    'min-slice': { type: 'string' },
    json: { type: 'boolean' },
    params: { type: 'string' },
    set: { type: 'string', multiple: true },
  },
  async run(args, ctx) {
    const { AppError } = await import('../../core/errors.js');
    const { monitorFeedback, formatFeedbackReport } = await import('../../jobs/monitor-feedback.js');
    const file = args.positionals[0];
    if (!file || args.positionals.length > 1)
      throw new AppError('USAGE', 'give one feedback file: carprice monitor feedback sold.csv');
    const by = (args.values.by as string | undefined) ?? 'week';
    if (by !== 'day' && by !== 'week' && by !== 'month')
      throw new AppError('USAGE', `--by must be day, week or month, got "${by}"`);
    const minSlice = wholeNumberFlag('min-slice', args.values['min-slice'], 1) ?? 10;
    const c = await common(args, ctx, null);
    const report = await monitorFeedback({
      logPath: c.logPath,
      file: resolvePath(ctx, file),
      env: ctx.env,
      now: c.now,
      period: by,
      minSliceCount: minSlice,
      flagRatio: c.params.model_test.slice_flag_ratio,
      signal: ctx.signal,
    });
    ctx.stdout.write(args.values.json ? JSON.stringify(report, null, 2) + '\n' : formatFeedbackReport(report));
    return 0;
  },
};

export const monitorShadowCommand: Command = {
  name: 'monitor shadow',
  summary: 'Compare the shadow challenger with the champion: agreement and, with feedback, accuracy',
  help: `Usage: carprice monitor shadow [--since 7d] [--until WHEN] [--json]

Pairs the champion's and the shadow challenger's prices of each logged request (serve
--shadow) and reports how far apart they are; on the requests with a realized price
(carprice monitor feedback) it reports each model's MAPE and interval coverage and a
paired bootstrap interval of the difference in error (settings: params.yaml model_test
bootstrap_resamples and confidence), with a verdict.

  --since WHEN         window start: 24h, 7d, 2w or an ISO date (default: the whole log)
${LOG_HELP}
  --json               print the report as JSON
  --params FILE, --set KEY=VALUE   params.yaml and overrides`,
  options: { ...LOG_OPTIONS, params: { type: 'string' }, set: { type: 'string', multiple: true } },
  async run(args, ctx) {
    const { monitorShadow, formatShadowReport } = await import('../../jobs/monitor-shadow.js');
    const c = await common(args, ctx, null);
    const report = monitorShadow({ logPath: c.logPath, since: c.since, until: c.until, params: c.params });
    ctx.stdout.write(args.values.json ? JSON.stringify(report, null, 2) + '\n' : formatShadowReport(report));
    return 0;
  },
};
