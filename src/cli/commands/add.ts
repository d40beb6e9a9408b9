/** `carprice add`: track data files/directories with .dvc files (like dvc add). */
import type { Command } from '../command.js';

export const addCommand: Command = {
  name: 'add',
  summary: 'Track data files or directories with .dvc files (like dvc add)',
  help: `Usage: carprice add PATH...

Hashes each PATH, stores it in the cache (.dvc/cache/files/md5/...), writes PATH.dvc next
to it and adds it to the .gitignore beside it. Commit the .dvc file to git and
\`carprice push\` the data.`,
  options: {},
  positionals: true,
  async run(args, ctx) {
    const { AppError } = await import('../../core/errors.js');
    if (args.positionals.length === 0) throw new AppError('USAGE', 'give at least one PATH: carprice add data/raw.xlsx');
    const { add } = await import('../../pipeline/add.js');
    const added = await add({ cwd: ctx.cwd, paths: args.positionals });
    for (const a of added) ctx.stdout.write(a.changed ? `Added '${a.path}' (${a.hash.md5})\n` : `'${a.path}' didn't change\n`);
    const files = added.map((a) => a.dvcFile).join(' ');
    ctx.stdout.write(`\nTo track the changes with git, run:\n\n\tgit add ${files}\n`);
  },
};
