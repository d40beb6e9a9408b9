/**
 * The SQLite engine the SQL tracking stores (../sql/) run on: opening the file (WAL, busy
 * timeout, migrations), the prepared-statement caches, and the synchronous driver of the
 * stores' steps. A write runs its whole body inside one immediate transaction (the body
 * is driven synchronously, so nothing else runs on the connection meanwhile), with a busy
 * timeout, so several processes can log to the same file at once without losing a row;
 * SQLite's busy and constraint errors become AppErrors here.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AppError } from '../../core/errors.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { SqlEngine } from '../sql/engine.js';
import { createDefaultExperiment, hasDefaultExperiment } from '../sql/run-store.js';
import { runSync, type Query, type Steps } from '../sql/steps.js';
import { migrate } from './migrations.js';
import { sqliteDialect } from './sqlite-dialect.js';

export interface SqliteDbOptions {
  /** Database file path (created with its directory when missing). */
  path: string;
  /** Root under which experiments get `<root>/<experiment_id>`: a local path, file://, s3:// or mlflow-artifacts:. */
  defaultArtifactRoot: string;
  clock?: Clock;
  logger?: Logger;
  /** How long a writer waits for another process's lock, ms (default 30000). */
  busyTimeoutMs?: number;
}

/** An open tracking database: the connection, statement caches and transactions. */
export class SqliteDb implements SqlEngine {
  readonly dialect = sqliteDialect;
  readonly db: Database.Database;
  readonly clock: Clock;
  readonly log: Logger;
  /** The default artifact root. */
  readonly root: string;
  /** The database file (named in errors). */
  readonly path: string;
  /** Fixed statements, prepared once per handle: rows as objects, and rows as arrays. */
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly rawStmts = new Map<string, Database.Statement>();
  /** Statements built from search requests, in a small LRU (keys carry the row mode). */
  private readonly searchStmts = new Map<string, Database.Statement>();
  private readonly transaction: Database.Transaction<(body: () => Steps<unknown>) => unknown>;

  /** Open (and migrate) the file and create the Default experiment when the database has none. */
  constructor(opts: SqliteDbOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.root = opts.defaultArtifactRoot;
    this.path = opts.path;
    mkdirSync(dirname(resolve(opts.path)), { recursive: true });
    try {
      this.db = new Database(opts.path, { timeout: opts.busyTimeoutMs ?? 30000 });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('case_sensitive_like = ON');
      // 32 MiB page cache (default 2 MiB) and in-memory sort b-trees: searches over tens of
      // thousands of runs stay in memory instead of re-reading pages through the OS.
      this.db.pragma('cache_size = -32768');
      this.db.pragma('temp_store = MEMORY');
      migrate(this.db, opts.path);
      this.transaction = this.db.transaction((body: () => Steps<unknown>) => runSync(body(), this.exec));
      if (!runSync(hasDefaultExperiment(), this.exec))
        this.transaction.immediate(() => createDefaultExperiment(this.root, this.clock.now()));
    } catch (e) {
      if (e instanceof AppError) throw e;
      const code = (e as { code?: string }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
        throw new AppError(
          'CONFIG_INVALID',
          `tracking database ${opts.path} is not a SQLite database (${(e as Error).message}); point MLFLOW_TRACKING_URI (or mlflow.tracking_uri) at a SQLite file or a server, or move the file away`,
          { cause: e },
        );
      throw new AppError(
        'TEMPORARILY_UNAVAILABLE',
        `cannot open tracking database ${opts.path}: ${(e as Error).message}; check the path is writable`,
        { cause: e },
      );
    }
    this.log.debug({ path: opts.path }, 'sqlite tracking store opened');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Run `body` for reading: its statements see committed data; SQLite errors become AppErrors. */
  async read<T>(body: () => Steps<T>): Promise<T> {
    try {
      return runSync(body(), this.exec);
    } catch (e) {
      throw this.mapError(e);
    }
  }

  /** Run `body` in an immediate (write-locking) transaction; SQLite busy errors become 503. */
  async write<T>(body: () => Steps<T>): Promise<T> {
    try {
      return this.transaction.immediate(body) as T;
    } catch (e) {
      throw this.mapError(e);
    }
  }

  /** The synchronous driver: one statement of a body, run now. */
  private readonly exec = (q: Query): unknown => {
    const s = q.built ? this.searchStmt(q.sql, q.kind === 'rows') : this.stmt(q.sql, q.kind === 'rows');
    switch (q.kind) {
      case 'get':
        return s.get(q.params);
      case 'all':
      case 'rows':
        return s.all(q.params);
      case 'run':
        return s.run(q.params);
    }
  };

  /** A prepared statement for fixed SQL, prepared once per handle (`raw`: rows as arrays). */
  private stmt(sql: string, raw: boolean): Database.Statement {
    const cache = raw ? this.rawStmts : this.stmts;
    let s = cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (raw) s.raw();
      cache.set(sql, s);
    }
    return s;
  }

  /**
   * A prepared statement for SQL built from a search request (filter/order shapes vary),
   * kept in a small LRU so repeated searches skip the prepare.
   */
  private searchStmt(sql: string, raw: boolean): Database.Statement {
    const key = raw ? `r${sql}` : `o${sql}`;
    let s = this.searchStmts.get(key);
    if (s) {
      this.searchStmts.delete(key);
    } else {
      s = this.db.prepare(sql);
      if (raw) s.raw();
      if (this.searchStmts.size >= 64) this.searchStmts.delete(this.searchStmts.keys().next().value as string);
    }
    this.searchStmts.set(key, s);
    return s;
  }

  private mapError(e: unknown): unknown {
    if (e instanceof AppError) return e;
    const code = (e as { code?: string }).code ?? '';
    // pages damaged after the file opened fine (a disk fault, a copy taken mid-write): the
    // query that meets them fails; say which file and what to do instead of a stack trace
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
      return new AppError(
        'DATA_LOSS',
        `tracking database ${this.path} is damaged (${(e as Error).message}); restore it from a backup, or recover what is readable with \`sqlite3 ${this.path} .recover\` into a new file`,
        { cause: e },
      );
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
      return new AppError(
        'TEMPORARILY_UNAVAILABLE',
        'the tracking database is busy (another process holds the write lock); retry',
        { cause: e },
      );
    if (code.startsWith('SQLITE_CONSTRAINT'))
      return new AppError('BAD_REQUEST', `constraint violated: ${(e as Error).message}`, { cause: e });
    return e;
  }
}
