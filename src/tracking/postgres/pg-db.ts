/**
 * The PostgreSQL engine the SQL tracking stores (../sql/) run on, beside sqlite-db.ts: the
 * connection pool (size and timeouts from the environment), migrations on open, and the
 * asynchronous driver of the stores' steps. Statements come in SQLite's spelling (`?`
 * placeholders, INSERT OR IGNORE / OR REPLACE) and are rewritten here ($1..$n, ON
 * CONFLICT); a write drives its whole body on one pooled client inside a SERIALIZABLE
 * transaction and is retried from the start on serialization failures, so concurrent
 * writers never lose or half-apply a batch. Credentials are never logged.
 */
import pg from 'pg';
import { AppError } from '../../core/errors.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { SqlEngine } from '../sql/engine.js';
import { createDefaultExperiment, hasDefaultExperiment } from '../sql/run-store.js';
import { runAsync, type Query, type Steps } from '../sql/steps.js';
import { pgDialect } from './pg-dialect.js';
import { migratePg } from './pg-migrations.js';

export interface PgConnection {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** Pool size (default 10). */
  max?: number;
  /** Connect timeout, ms (default 10000). */
  connectTimeoutMs?: number;
  /** Per-statement timeout, ms (default 30000). */
  statementTimeoutMs?: number;
  /** Idle connections are closed after this many ms (default 30000). */
  idleTimeoutMs?: number;
  ssl?: boolean;
}

export interface PgDbOptions {
  connection: PgConnection;
  /** Root under which experiments get `<root>/<experiment_id>`. */
  defaultArtifactRoot: string;
  clock?: Clock;
  logger?: Logger;
  /** Where the database is, for messages (never carries the password). */
  where: string;
}

/** int8 (bigint: timestamps) as JS numbers, numeric as numbers; everything else as pg does. */
const types = {
  getTypeParser(oid: number, format?: string): (v: string) => unknown {
    if (oid === 20 || oid === 1700) return (v: string) => (v === null ? null : Number(v));
    return pg.types.getTypeParser(oid, format as 'text') as (v: string) => unknown;
  },
};

type Queryable = pg.Pool | pg.PoolClient;

/** Primary keys of the tables the stores upsert into. */
const PRIMARY_KEYS: Record<string, string[]> = {
  experiment_tags: ['experiment_id', 'key'],
  tags: ['run_uuid', 'key'],
  run_inputs: ['run_uuid', 'name', 'digest'],
  registered_model_tags: ['name', 'key'],
  model_version_tags: ['name', 'version', 'key'],
  registered_model_aliases: ['name', 'alias'],
  logged_model_tags: ['model_id', 'key'],
};

/** SQLite's INSERT OR IGNORE / OR REPLACE as PostgreSQL ON CONFLICT clauses. */
export function toPgDialect(sql: string): string {
  let out = sql;
  const ignore = /^\s*INSERT OR IGNORE INTO /.exec(out);
  if (ignore) out = out.replace(/INSERT OR IGNORE INTO /, 'INSERT INTO ') + ' ON CONFLICT DO NOTHING';
  const replace = /^\s*INSERT OR REPLACE INTO (\w+) \(([^)]*)\)/.exec(out);
  if (replace) {
    const pk = PRIMARY_KEYS[replace[1]];
    if (!pk) throw new Error(`no primary key known for ${replace[1]}`);
    const cols = replace[2].split(',').map((c) => c.trim());
    const set = cols.filter((c) => !pk.includes(c)).map((c) => `${c} = EXCLUDED.${c}`);
    out =
      out.replace(/INSERT OR REPLACE INTO /, 'INSERT INTO ') +
      ` ON CONFLICT (${pk.join(', ')}) DO ${set.length ? `UPDATE SET ${set.join(', ')}` : 'NOTHING'}`;
  }
  return out;
}

const textCache = new Map<string, string>();

/** A statement in the stores' spelling as PostgreSQL text: ON CONFLICT clauses, `?` -> `$1..$n` (the SQL never holds a literal `?`). */
function pgText(sql: string): string {
  let out = textCache.get(sql);
  if (out === undefined) {
    let n = 0;
    out = toPgDialect(sql).replace(/\?/g, () => `$${++n}`);
    if (textCache.size > 2000) textCache.clear();
    textCache.set(sql, out);
  }
  return out;
}

/** An open tracking database on PostgreSQL. */
export class PgDb implements SqlEngine {
  readonly dialect = pgDialect;
  readonly pool: pg.Pool;
  readonly clock: Clock;
  readonly log: Logger;
  readonly root: string;
  readonly where: string;
  private ready: Promise<void> | undefined;

  constructor(opts: PgDbOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.root = opts.defaultArtifactRoot;
    this.where = opts.where;
    const c = opts.connection;
    this.pool = new pg.Pool({
      host: c.host,
      port: c.port,
      user: c.user,
      password: c.password,
      database: c.database,
      max: c.max ?? 10,
      connectionTimeoutMillis: c.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: c.idleTimeoutMs ?? 30_000,
      statement_timeout: c.statementTimeoutMs ?? 30_000,
      ssl: c.ssl ? { rejectUnauthorized: false } : undefined,
      application_name: 'carprice',
      types,
    });
    // An idle client losing its server must not crash the process; the next query reconnects.
    this.pool.on('error', (e) => this.log.warn({ err: e.message }, 'postgres pool client error'));
  }

  /** Connect, migrate and create the Default experiment once; every store call awaits this first. */
  open(): Promise<void> {
    this.ready ??= (async () => {
      try {
        await migratePg(this.pool, this.where);
        if (!(await this.run(this.pool, hasDefaultExperiment())))
          await this.transaction(() => createDefaultExperiment(this.root, this.clock.now()));
      } catch (e) {
        throw this.mapError(e);
      }
      this.log.debug({ where: this.where }, 'postgres tracking store opened');
    })();
    return this.ready;
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  /** Run `body` for reading: each statement on whichever pooled connection is free. */
  async read<T>(body: () => Steps<T>): Promise<T> {
    await this.open();
    try {
      return await this.run(this.pool, body());
    } catch (e) {
      throw this.mapError(e);
    }
  }

  /** Run `body` in a SERIALIZABLE transaction (retried on serialization failures and deadlocks). */
  async write<T>(body: () => Steps<T>): Promise<T> {
    await this.open();
    return this.transaction(body);
  }

  private async transaction<T>(body: () => Steps<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (e) {
        throw this.mapError(e);
      }
      let broken = false;
      try {
        await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
        const out = await this.run(client, body());
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        const code = pgCode(e);
        if ((code === '40001' || code === '40P01') && attempt < 50) {
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** attempt)));
          continue;
        }
        throw this.mapError(e);
      } finally {
        client.release(broken);
      }
    }
  }

  /** The asynchronous driver: each statement of `steps` on `on`, one after the other. */
  private run<T>(on: Queryable, steps: Steps<T>): Promise<T> {
    return runAsync(steps, async (q: Query) => {
      const text = pgText(q.sql);
      if (q.kind === 'rows') return (await on.query({ text, values: q.params as unknown[], rowMode: 'array' })).rows;
      const r = await on.query<Record<string, unknown>>(text, q.params as unknown[]);
      return q.kind === 'get' ? r.rows[0] : q.kind === 'all' ? r.rows : { changes: r.rowCount ?? 0 };
    });
  }

  mapError(e: unknown): unknown {
    if (e instanceof AppError) return e;
    const code = pgCode(e) ?? '';
    const msg = (e as Error).message;
    if (code === '40001' || code === '40P01')
      return new AppError(
        'TEMPORARILY_UNAVAILABLE',
        'the tracking database is busy (concurrent writes conflicted); retry',
        { cause: e },
      );
    if (code.startsWith('23')) return new AppError('BAD_REQUEST', `constraint violated: ${msg}`, { cause: e });
    if (code === '22P02' || code === '22003')
      return new AppError('INVALID_PARAMETER_VALUE', `invalid value in a search or request: ${msg}`, { cause: e });
    if (code === '28P01' || code === '28000')
      return new AppError(
        'CONFIG_INVALID',
        `cannot log in to PostgreSQL at ${this.where}: ${msg}; check the user and password (URI, PGUSER/PGPASSWORD or CARPRICE_PG_PASSWORD_FILE)`,
        { cause: e },
      );
    if (code === '3D000')
      return new AppError(
        'CONFIG_INVALID',
        `PostgreSQL database at ${this.where} does not exist (${msg}); create it (createdb) or fix the URI`,
        { cause: e },
      );
    if (code === '57014')
      return new AppError(
        'TEMPORARILY_UNAVAILABLE',
        `a PostgreSQL statement timed out at ${this.where}; retry or raise CARPRICE_PG_STATEMENT_TIMEOUT_MS`,
        { cause: e },
      );
    const sys = (e as { code?: string }).code;
    if (
      sys === 'ECONNREFUSED' ||
      sys === 'ENOTFOUND' ||
      sys === 'ETIMEDOUT' ||
      sys === 'ECONNRESET' ||
      /timeout|terminated|Connection/i.test(msg)
    )
      return new AppError(
        'TEMPORARILY_UNAVAILABLE',
        `cannot reach PostgreSQL at ${this.where}: ${msg}; check the server is running and the host/port`,
        { cause: e },
      );
    return e;
  }
}

function pgCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | undefined)?.code;
  return typeof c === 'string' && /^[0-9A-Z]{5}$/.test(c) ? c : undefined;
}
