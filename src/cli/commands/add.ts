/** `carprice add`: track data files/directories with .dvc files (like dvc add). */
import type { Command } from '../command.js';
import { join, relative } from 'node:path';

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
    if (args.positionals.length === 0)
      throw new AppError('USAGE', 'give at least one PATH: carprice add data/raw.xlsx');
    const { add } = await import('../../pipeline/add.js');
    const added = await add({ cwd: ctx.cwd, paths: args.positionals });
    // DVC prints nothing per added path (only the git hint below).
    for (const a of added) if (!a.changed) ctx.stdout.write(`'${a.path}' didn't change\n`);
    const { existsSync } = await import('node:fs');
    const { Repo } = await import('../../pipeline/repo.js');
    const repo = Repo.find(ctx.cwd);
    if (!existsSync(join(repo.root, '.git'))) return;
    // DVC's hint: the .dvc files and the .gitignore files it wrote (paths relative to cwd, shell-quoted).
    const quote = (p: string) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'"'"'`)}'`);
    const files = [...new Set(added.flatMap((a) => [a.dvcFile, ...(a.gitignore ? [a.gitignore] : [])]))].map(
      (f) => relative(ctx.cwd, repo.abs(f)) || f,
    );
    ctx.stdout.write(`\nTo track the changes with git, run:\n\n\tgit add ${files.map(quote).join(' ')}\n`);
  },
};
