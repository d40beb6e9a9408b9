/**
 * postgresql:// tracking URIs (MLflow/SQLAlchemy style, `postgresql+psycopg2://` too) ->
 * pool settings. Credentials come from the URI, else PGUSER/PGPASSWORD, else the file
 * named by CARPRICE_PG_PASSWORD_FILE; host, port and database fall back to PGHOST, PGPORT,
 * PGDATABASE. Pool size and timeouts come from CARPRICE_PG_POOL_MAX,
 * CARPRICE_PG_CONNECT_TIMEOUT_MS and CARPRICE_PG_STATEMENT_TIMEOUT_MS. `redactPgUri` is
 * the only form of the URI carprice prints or logs.
 */
import { readFileSync } from 'node:fs';
import { AppError } from '../../core/errors.js';
import type { Env } from '../../config/env.js';
import type { PgConnection } from './pg-db.js';

export function isPostgresUri(uri: string): boolean {
  return /^postgres(ql)?(\+[a-z0-9]+)?:\/\//i.test(uri);
}

/** The URI without its password (user kept), for messages. */
export function redactPgUri(uri: string): string {
  return uri.replace(
    /^([a-z0-9+]+:\/\/)([^@/]*)@/i,
    (_m, scheme: string, cred: string) => `${scheme}${cred.includes(':') ? `${cred.split(':')[0]}:***` : cred}@`,
  );
}

function positiveInt(
  env: Env,
  name: 'CARPRICE_PG_POOL_MAX' | 'CARPRICE_PG_CONNECT_TIMEOUT_MS' | 'CARPRICE_PG_STATEMENT_TIMEOUT_MS' | 'PGPORT',
): number | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new AppError('CONFIG_INVALID', `${name} must be a positive integer, got '${raw}'`);
  return Number(raw);
}

/** Pool settings for a postgresql:// URI; `where` is the redacted URI. */
export function pgConnectionFromUri(uri: string, env: Env): { connection: PgConnection; where: string } {
  const where = redactPgUri(uri);
  let u: URL;
  try {
    u = new URL(uri.replace(/^postgres(ql)?(\+[a-z0-9]+)?:/i, 'postgresql:'));
  } catch {
    throw new AppError(
      'CONFIG_INVALID',
      `invalid PostgreSQL tracking URI '${where}': use postgresql://user:password@host:5432/database`,
    );
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || env.PGDATABASE;
  if (!database)
    throw new AppError(
      'CONFIG_INVALID',
      `PostgreSQL tracking URI '${where}' names no database: use postgresql://user@host:5432/database (or set PGDATABASE)`,
    );
  let password = u.password ? decodeURIComponent(u.password) : env.PGPASSWORD;
  if (password === undefined && env.CARPRICE_PG_PASSWORD_FILE) {
    try {
      password = readFileSync(env.CARPRICE_PG_PASSWORD_FILE, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new AppError(
        'CONFIG_INVALID',
        `cannot read CARPRICE_PG_PASSWORD_FILE ${env.CARPRICE_PG_PASSWORD_FILE}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; point it at a readable file holding the password`,
      );
    }
  }
  const sslmode = u.searchParams.get('sslmode');
  const port = u.port ? Number(u.port) : positiveInt(env, 'PGPORT');
  return {
    where,
    connection: {
      host: u.hostname ? decodeURIComponent(u.hostname).replace(/^\[|\]$/g, '') : (env.PGHOST ?? 'localhost'),
      port: port ?? 5432,
      user: u.username ? decodeURIComponent(u.username) : env.PGUSER,
      password,
      database,
      ssl: sslmode !== null && sslmode !== 'disable' && sslmode !== 'allow' && sslmode !== 'prefer',
      max: positiveInt(env, 'CARPRICE_PG_POOL_MAX'),
      connectTimeoutMs: positiveInt(env, 'CARPRICE_PG_CONNECT_TIMEOUT_MS'),
      statementTimeoutMs: positiveInt(env, 'CARPRICE_PG_STATEMENT_TIMEOUT_MS'),
    },
  };
}
