/** `carprice repro`: bring the DVC pipeline up to date (see pipeline/reproduce.ts). */
import type { Command } from '../command.js';
import { wholeNumberFlag } from '../flag-values.js';

export const reproCommand: Command = {
  name: 'repro',
  summary: 'Run the stages of dvc.yaml whose deps, params, cmd or outs changed (like dvc repro)',
  help: `Usage: carprice repro [TARGET...] [--force] [--dry] [--downstream] [--single-item] [--jobs N] [--pull] [--no-run-cache]

Runs the pipeline in dvc.yaml like \`dvc repro\`: stages whose deps, params, command or
outputs changed run (upstream first), the others are skipped; outputs go to the cache and
dvc.lock is updated so real DVC agrees. TARGET is a stage name, a foreach/matrix group, or
a .dvc file (default: all stages).

Stage commands run with /bin/sh -c in the stage's wdir. PATH gets the project's
node_modules/.bin and the running carprice's bin directory in front, so a stage cmd such
as \`carprice stage train\` works without a global install.

Flags:
  -f, --force        run every planned stage even if unchanged
      --dry          print the commands that would run; run and write nothing
      --downstream   the targets and every stage that depends on them
  -s, --single-item  only the targets, no upstream
  -j, --jobs N       run up to N independent stages at once (default 1)
      --pull         pull the run-cache and the cached outputs a stage can be restored from
                     from the remote (-r REMOTE, default core.remote) before deciding
      --no-run-cache no restoring from the run-cache (a stage's own dvc.lock entry still
                     restores its deleted outputs)
  -r, --remote NAME  remote for --pull

Outputs of an unchanged stage, or of a run already made with the same command, deps and
params (the run-cache, .dvc/cache/runs), are checked out from the cache instead of running
the command, as DVC does; never for stages without deps, with persist outputs or
always_changed. Cached objects are checked against their hash before they are restored.

Examples:
  carprice repro
  carprice repro train --force
  carprice repro -j 4`,
  options: {
    force: { type: 'boolean', short: 'f' },
    dry: { type: 'boolean' },
    downstream: { type: 'boolean' },
    'single-item': { type: 'boolean', short: 's' },
    jobs: { type: 'string', short: 'j' },
    pull: { type: 'boolean' },
    'no-run-cache': { type: 'boolean' },
    remote: { type: 'string', short: 'r' },
  },
  positionals: true,
  async run(args, ctx) {
    const jobs = wholeNumberFlag('jobs', args.values.jobs, 1) ?? 1;
    const { reproduce } = await import('../../pipeline/reproduce.js');
    await reproduce({
      cwd: ctx.cwd,
      targets: args.positionals,
      force: Boolean(args.values.force),
      dry: Boolean(args.values.dry),
      downstream: Boolean(args.values.downstream),
      singleItem: Boolean(args.values['single-item']),
      jobs,
      pull: Boolean(args.values.pull),
      runCache: !args.values['no-run-cache'],
      remote: args.values.remote as string | undefined,
      remoteEnv: ctx.env,
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      logger: ctx.logger,
      signal: ctx.signal,
      argv1: process.argv[1],
    });
  },
};
