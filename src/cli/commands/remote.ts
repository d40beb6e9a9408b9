/** `carprice remote add|list|modify|remove|default`: manage remotes in .dvc/config (like dvc remote). */
import type { Command } from '../command.js';

export const remoteAddCommand: Command = {
  name: 'remote add',
  summary: 'Add a data remote to .dvc/config (-d to make it the default)',
  help: `Usage: carprice remote add [-d] [-f] [--local] NAME URL

URL is s3://BUCKET/PREFIX or a local directory (a relative path is stored relative to
.dvc/, as DVC does). -d sets it as the default remote (core.remote).
S3 options: carprice remote modify NAME endpointurl http://127.0.0.1:9000 (or region, ...).

Example: carprice remote add -d storage s3://my-bucket/carprice`,
  options: {
    default: { type: 'boolean', short: 'd' },
    force: { type: 'boolean', short: 'f' },
    local: { type: 'boolean' },
  },
  positionals: true,
  async run(args, ctx) {
    const { AppError } = await import('../../core/errors.js');
    if (args.positionals.length !== 2) throw new AppError('USAGE', 'usage: carprice remote add [-d] NAME URL');
    const { remoteAdd } = await import('../../pipeline/remotes.js');
    const r = remoteAdd({
      cwd: ctx.cwd,
      name: args.positionals[0],
      url: args.positionals[1],
      default: Boolean(args.values.default),
      force: Boolean(args.values.force),
      local: Boolean(args.values.local),
    });
    // DVC prints only "Setting 'NAME' as a default remote." (for -d) and nothing otherwise.
    if (args.values.default) ctx.stdout.write(`Setting '${r.name}' as a default remote.\n`);
  },
};

export const remoteListCommand: Command = {
  name: 'remote list',
  summary: 'List data remotes',
  help: 'Usage: carprice remote list\n\nPrints NAME<TAB>URL per remote, like dvc remote list ("(default)" marks core.remote).',
  options: {},
  async run(_args, ctx) {
    const { remoteList } = await import('../../pipeline/remotes.js');
    for (const r of remoteList({ cwd: ctx.cwd }))
      ctx.stdout.write(`${r.name}\t${r.url}${r.isDefault ? '\t(default)' : ''}\n`);
  },
};

export const remoteModifyCommand: Command = {
  name: 'remote modify',
  summary: 'Set or unset an option of a data remote',
  help: `Usage: carprice remote modify [--local] [--unset] NAME OPTION [VALUE]

Options: url, region, endpointurl, profile, access_key_id, secret_access_key (put secrets
in .dvc/config.local with --local), ...`,
  options: { unset: { type: 'boolean', short: 'u' }, local: { type: 'boolean' } },
  positionals: true,
  async run(args, ctx) {
    const { AppError } = await import('../../core/errors.js');
    const [name, option, value] = args.positionals;
    if (!name || !option || (args.values.unset ? args.positionals.length !== 2 : args.positionals.length !== 3))
      throw new AppError('USAGE', 'usage: carprice remote modify NAME OPTION VALUE  (or --unset NAME OPTION)');
    const { remoteModify } = await import('../../pipeline/remotes.js');
    remoteModify({
      cwd: ctx.cwd,
      name,
      option,
      value,
      unset: Boolean(args.values.unset),
      local: Boolean(args.values.local),
    });
  },
};

export const remoteRemoveCommand: Command = {
  name: 'remote remove',
  summary: 'Remove a data remote',
  help: 'Usage: carprice remote remove NAME',
  options: {},
  positionals: true,
  async run(args, ctx) {
    const { AppError } = await import('../../core/errors.js');
    if (args.positionals.length !== 1) throw new AppError('USAGE', 'usage: carprice remote remove NAME');
    const { remoteRemove } = await import('../../pipeline/remotes.js');
    remoteRemove({ cwd: ctx.cwd, name: args.positionals[0] });
  },
};

export const remoteDefaultCommand: Command = {
  name: 'remote default',
  summary: 'Set the default data remote',
  help: 'Usage: carprice remote default NAME',
  options: {},
  positionals: true,
  async run(args, ctx) {
    const { AppError } = await import('../../core/errors.js');
    if (args.positionals.length !== 1) throw new AppError('USAGE', 'usage: carprice remote default NAME');
    const { remoteDefault } = await import('../../pipeline/remotes.js');
    remoteDefault({ cwd: ctx.cwd, name: args.positionals[0] });
  },
};
