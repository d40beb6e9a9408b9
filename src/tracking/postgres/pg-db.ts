/**
 * The one connection pool the PostgreSQL tracking stores share (runs/experiments, model
 * registry, logged models), mirroring sqlite-db.ts: the pool (size and timeouts from the
 * environment), migrations on open, and the transaction helpers. Statements are written
 * with `?` placeholders like the SQLite stores (numbered to $1..$n here); a write runs in a
 * SERIALIZABLE transaction on one pooled client (held in AsyncLocalStorage, so every
 * statement issued inside `write` uses it) and is retried on serialization failures, so
 * concurrent writers never lose or half-apply a batch. Credentials are never logged.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { AppError } from '../../core/errors.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { silentLogger, type Logger } from '../../core/logger.js';
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

const placeholderCache = new Map<string, string>();

/** `?` -> `$1..$n` (the SQL never holds a literal `?`). */
export function numberPlaceholders(sql: string): string {
  let out = placeholderCache.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    if (placeholderCache.size > 2000) placeholderCache.clear();
    placeholderCache.set(sql, out);
  }
  return out;
}

type Queryable = pg.Pool | pg.PoolClient;

export interface PgStatement {
  get<T>(...params: unknown[]): Promise<T | undefined>;
  all<T>(...params: unknown[]): Promise<T[]>;
  run(...params: unknown[]): Promise<{ changes: number }>;
}

/** A single array argument is the parameter list (as better-sqlite3 accepts). */
function flat(params: unknown[]): unknown[] {
  return params.length === 1 && Array.isArray(params[0]) ? (params[0] as unknown[]) : params;
}

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

const dialectCache = new Map<string, string>();

/** SQLite's INSERT OR IGNORE / OR REPLACE as PostgreSQL ON CONFLICT clauses. */
export function toPgDialect(sql: string): string {
  let out = dialectCache.get(sql);
  if (out !== undefined) return out;
  out = sql;
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
  if (dialectCache.size > 2000) dialectCache.clear();
  dialectCache.set(sql, out);
  return out;
}

/** An open tracking database on PostgreSQL. */
export class PgDb {
  readonly pool: pg.Pool;
  readonly clock: Clock;
  readonly log: Logger;
  readonly root: string;
  readonly where: string;
  private readonly tx = new AsyncLocalStorage<pg.PoolClient>();
  private ready: Promise<void> | undefined;

  constructor(
    opts: PgDbOptions,
    private readonly init: (h: PgDb) => Promise<void>,
  ) {
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

  /** Connect, migrate and initialise once; every store call awaits this first. */
  open(): Promise<void> {
    this.ready ??= (async () => {
      try {
        await migratePg(this.pool, this.where);
        await this.init(this);
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

  private client(): Queryable {
    return this.tx.getStore() ?? this.pool;
  }

  private async query(sql: string, params: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.client().query(numberPlaceholders(sql), params);
    } catch (e) {
      throw this.mapError(e);
    }
  }

  /**
   * A statement in the SQLite stores' dialect: `?` placeholders, INSERT OR IGNORE and
   * INSERT OR REPLACE (rewritten to ON CONFLICT on the table's primary key).
   */
  stmt(sql: string): PgStatement {
    const text = toPgDialect(sql);
    return {
      get: <T>(...params: unknown[]) => this.get<T>(text, ...flat(params)),
      all: <T>(...params: unknown[]) => this.all<T>(text, ...flat(params)),
      run: (...params: unknown[]) => this.run(text, ...flat(params)),
    };
  }

  /** First row or undefined. */
  async get<T>(sql: string, ...params: unknown[]): Promise<T | undefined> {
    return (await this.query(sql, params)).rows[0] as T | undefined;
  }

  async all<T>(sql: string, ...params: unknown[]): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  /** Rows as arrays (column order as selected). */
  async raw(sql: string, params: unknown[]): Promise<unknown[][]> {
    try {
      return (await this.client().query({ text: numberPlaceholders(sql), values: params, rowMode: 'array' }))
        .rows as unknown[][];
    } catch (e) {
      throw this.mapError(e);
    }
  }

  async run(sql: string, ...params: unknown[]): Promise<{ changes: number }> {
    return { changes: (await this.query(sql, params)).rowCount ?? 0 };
  }

  /** Run `fn` in a SERIALIZABLE transaction (retried on serialization failures and deadlocks). */
  async write<T>(fn: () => Promise<T>): Promise<T> {
    await this.open();
    if (this.tx.getStore()) return fn();
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
        const out = await this.tx.run(client, fn);
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        const code = pgCode(e) ?? pgCode((e as { cause?: unknown }).cause);
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

  async read<T>(fn: () => Promise<T>): Promise<T> {
    await this.open();
    try {
      return await fn();
    } catch (e) {
      throw this.mapError(e);
    }
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

/** Map sequentially (statements on one transaction's client run one at a time anyway). */
export async function mapAsync<T, U>(xs: readonly T[], fn: (x: T) => Promise<U>): Promise<U[]> {
  const out: U[] = [];
  for (const x of xs) out.push(await fn(x));
  return out;
}

function pgCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | undefined)?.code;
  return typeof c === 'string' && /^[0-9A-Z]{5}$/.test(c) ? c : undefined;
}
