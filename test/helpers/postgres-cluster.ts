/**
 * A throwaway PostgreSQL cluster for tests: initdb + pg_ctl from Debian's postgresql
 * package (/usr/lib/postgresql/<version>/bin) into a temp dir, listening on a free private
 * port on 127.0.0.1 (trust auth, C locale). Root cannot run postgres, so under root the
 * cluster runs as the `postgres` user (runuser). `startPostgres` answers a reason string
 * instead of a cluster when PostgreSQL cannot start, so tests skip with that message.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { PgConnection } from '../../src/tracking/postgres/pg-db.js';
import { freePort } from '../../src/deploy/processes.js';

export interface PgCluster {
  port: number;
  /** A connection to a new, empty database. */
  newDatabase(): Promise<PgConnection & { uri: string }>;
  stop(): void;
}

function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : undefined;
}

/** Start a cluster, or say why not. */
export async function startPostgres(): Promise<PgCluster | string> {
  const bin = binDir();
  if (!bin) return 'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; apt-get install postgresql)';
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'carprice-pg-'));
  const data = join(dir, 'data');
  const run = (cmd: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio: 'pipe' })
      : execFileSync(join(bin, cmd), args, { stdio: 'pipe' });
  const port = await freePort();
  try {
    if (asRoot) {
      chmodSync(dir, 0o777);
      execFileSync('chown', ['postgres', dir]);
    }
    run('initdb', ['-D', data, '-U', 'carprice', '--auth=trust', '--locale=C', '-E', 'UTF8', '--no-sync']);
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      'start',
    ]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const err = e as { stderr?: Buffer; message: string };
    return `PostgreSQL could not start: ${(err.stderr?.toString() || err.message).trim().split('\n').pop()}`;
  }
  let n = 0;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Whatever happens to the process, the cluster (a daemon of pg_ctl's) does not outlive it:
  // on exit, and on SIGINT/SIGTERM (a timeout, ^C), which end node without an 'exit' event;
  // the signal is raised again once the cluster is stopped, so the process still ends by it.
  process.once('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      stop();
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  return {
    port,
    async newDatabase() {
      const name = `t${process.pid}_${++n}`;
      const admin = new pg.Client({ host: '127.0.0.1', port, user: 'carprice', database: 'postgres' });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return {
        host: '127.0.0.1',
        port,
        user: 'carprice',
        database: name,
        uri: `postgresql://carprice@127.0.0.1:${port}/${name}`,
      };
    },
    stop,
  };
}
