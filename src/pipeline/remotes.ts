/**
 * `remote add | list | modify | remove | default`: edit the remote sections of
 * `.dvc/config` (or `.dvc/config.local` with `local`) the way `dvc remote` does. Names are
 * lowercased; a relative local URL is stored relative to `.dvc/`; `-d` sets `core.remote`.
 */
import { AppError } from '../core/errors.js';
import { toConfigRelative } from './config.js';
import { Repo } from './repo.js';

const S3_OPTIONS = [
  'url',
  'region',
  'profile',
  'credentialpath',
  'configpath',
  'endpointurl',
  'access_key_id',
  'secret_access_key',
  'session_token',
  'use_ssl',
  'ssl_verify',
  'sse',
  'sse_kms_key_id',
  'acl',
  'allow_anonymous_login',
  'version_aware',
  'worktree',
  'jobs',
  'type',
  'shared',
  'verify',
  'read_timeout',
  'connect_timeout',
];

/** Add a remote. */
export function remoteAdd(opts: {
  cwd: string;
  name: string;
  url: string;
  default?: boolean;
  force?: boolean;
  local?: boolean;
}): { name: string; url: string } {
  const repo = Repo.find(opts.cwd);
  const name = opts.name.toLowerCase();
  if (!/^[\w.-]+$/.test(name))
    throw new AppError('USAGE', `invalid remote name '${opts.name}': use letters, digits, '.', '-' and '_'`);
  const data = opts.local ? repo.config.local : repo.config.repo;
  const sec = `remote "${name}"`;
  if (data.has(sec) && !opts.force)
    throw new AppError(
      'USAGE',
      `remote '${name}' already exists; use --force to overwrite it, or \`carprice remote modify ${name} url URL\``,
    );
  const url = toConfigRelative(opts.url, opts.cwd, repo.dvcDir);
  data.set(sec, new Map([['url', url]]));
  if (opts.default) {
    const core = data.get('core') ?? new Map<string, string>();
    core.set('remote', name);
    data.set('core', core);
  }
  repo.config.save(opts.local ? 'local' : 'repo');
  return { name, url };
}

/** Remotes as `[name, url, isDefault]`. */
export function remoteList(opts: { cwd: string }): Array<{ name: string; url: string; isDefault: boolean }> {
  const repo = Repo.find(opts.cwd);
  const def = repo.config.get('core', 'remote');
  return repo.config
    .remoteNames()
    .map((n) => ({ name: n, url: repo.config.section(`remote "${n}"`)?.get('url') ?? '', isDefault: n === def }));
}

/** Set (or unset) one option of a remote. */
export function remoteModify(opts: {
  cwd: string;
  name: string;
  option: string;
  value?: string;
  unset?: boolean;
  local?: boolean;
}): void {
  const repo = Repo.find(opts.cwd);
  const name = opts.name.toLowerCase();
  const sec = `remote "${name}"`;
  if (!repo.config.section(sec))
    throw new AppError(
      'USAGE',
      `remote '${name}' does not exist; known: ${repo.config.remoteNames().join(', ') || '(none)'}`,
    );
  if (!S3_OPTIONS.includes(opts.option))
    throw new AppError('USAGE', `unknown remote option '${opts.option}'; known: ${S3_OPTIONS.join(', ')}`);
  const data = opts.local ? repo.config.local : repo.config.repo;
  const m = data.get(sec) ?? new Map<string, string>();
  if (opts.unset) m.delete(opts.option);
  else {
    if (opts.value === undefined)
      throw new AppError(
        'USAGE',
        `a value is needed: carprice remote modify ${name} ${opts.option} VALUE (or --unset)`,
      );
    m.set(opts.option, opts.option === 'url' ? toConfigRelative(opts.value, opts.cwd, repo.dvcDir) : opts.value);
  }
  data.set(sec, m);
  repo.config.save(opts.local ? 'local' : 'repo');
}

/** Remove a remote (and unset it as default). */
export function remoteRemove(opts: { cwd: string; name: string }): void {
  const repo = Repo.find(opts.cwd);
  const name = opts.name.toLowerCase();
  const sec = `remote "${name}"`;
  if (!repo.config.repo.has(sec) && !repo.config.local.has(sec))
    throw new AppError('USAGE', `remote '${name}' does not exist`);
  for (const [which, data] of [
    ['repo', repo.config.repo],
    ['local', repo.config.local],
  ] as const) {
    let touched = data.delete(sec);
    if (data.get('core')?.get('remote') === name) {
      data.get('core')!.delete('remote');
      touched = true;
    }
    if (touched) repo.config.save(which);
  }
}

/** Set the default remote (`core.remote`). */
export function remoteDefault(opts: { cwd: string; name: string }): void {
  const repo = Repo.find(opts.cwd);
  const name = opts.name.toLowerCase();
  if (!repo.config.section(`remote "${name}"`)) throw new AppError('USAGE', `remote '${name}' does not exist`);
  const core = repo.config.repo.get('core') ?? new Map<string, string>();
  core.set('remote', name);
  repo.config.repo.set('core', core);
  repo.config.save('repo');
}
