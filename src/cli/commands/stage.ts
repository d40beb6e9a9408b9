/** `carprice stage <name>`: run one car-pipeline stage (what dvc.yaml's cmd lines call). */
import { AppError } from '../../core/errors.js';
import type { StageContext } from '../../jobs/stages/stage-context.js';
import { STAGE_JOBS } from '../../jobs/stages/stage-table.js';
import type { Command } from '../command.js';
import { PARAMS_HELP, PARAMS_OPTIONS, paramsFromFlags } from './params-flags.js';

export const stageCommand: Command = {
  name: 'stage',
  summary: 'Run one stage of the car pipeline (data_ingestion ... register_model)',
  help: `Usage: carprice stage <name> [--json]

Stages (in order; dvc.yaml runs them with \`carprice repro\` or real \`dvc repro\`):
  data_ingestion       validate, dedupe, select columns, split -> artifacts/data_ingestion/
  data_transformation  fit the feature pipeline -> artifacts/data_transformation/
  model_trainer        fit the model, log it to the tracking store, register a new version
  model_evaluation     test metrics, compare with Production -> metrics.json, evaluation_info.json
  register_model       move the version to Staging when evaluation flagged it better
  --json               print the stage's result as JSON on stdout
${PARAMS_HELP}
`,
  options: { json: { type: 'boolean' }, ...PARAMS_OPTIONS },
  positionals: true,
  async run(args, ctx) {
    const name = args.positionals[0];
    if (!name || args.positionals.length > 1 || !(name in STAGE_JOBS))
      throw new AppError('USAGE', `carprice stage needs one stage name: ${Object.keys(STAGE_JOBS).join(', ')}`);
    const job = await STAGE_JOBS[name]();
    const stageCtx: StageContext = {
      params: await paramsFromFlags(args, ctx),
      cwd: ctx.cwd,
      env: ctx.env,
      logger: ctx.logger,
      signal: ctx.signal,
      report: (line) => ctx.stderr.write(line + '\n'),
    };
    // Runs left RUNNING by a stage process that died (e.g. a killed repro) are closed first.
    await (await import('../../jobs/stages/open-runs.js')).failOrphanedRuns(stageCtx);
    const result = await job(stageCtx);
    if (args.values.json) ctx.stdout.write(JSON.stringify(result) + '\n');
  },
};
