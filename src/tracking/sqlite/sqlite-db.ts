/**
 * The one database handle the SQLite tracking stores share (runs/experiments, model
 * registry, logged models): opening the file (WAL, busy timeout, migrations), the
 * prepared-statement caches and the transaction helpers. Writes run in immediate
 * transactions with a busy timeout, so several processes can log to the same file at once
 * without losing a row; SQLite's busy and constraint errors become AppErrors here.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AppError } from '../../core/errors.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { migrate } from './migrations.js';

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
export class SqliteDb {
  readonly db: Database.Database;
  readonly clock: Clock;
  readonly log: Logger;
  /** The default artifact root. */
  readonly root: string;
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly searchStmts = new Map<string, Database.Statement>();

  /** Open (and migrate) the file; `init` runs once the schema is current, inside the same error mapping. */
  constructor(opts: SqliteDbOptions, init: (h: SqliteDb) => void) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.root = opts.defaultArtifactRoot;
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
      init(this);
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

  /** A prepared statement for fixed SQL, prepared once per handle. */
  stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /**
   * A prepared statement for SQL built from a search request (filter/order shapes vary),
   * kept in a small LRU so repeated searches skip the prepare; raw mode (rows as arrays).
   */
  cachedStmt(sql: string): Database.Statement {
    let s = this.searchStmts.get(sql);
    if (s) {
      this.searchStmts.delete(sql);
    } else {
      s = this.db.prepare(sql).raw();
      if (this.searchStmts.size >= 64) this.searchStmts.delete(this.searchStmts.keys().next().value as string);
    }
    this.searchStmts.set(sql, s);
    return s;
  }

  /** Run `fn` in an immediate (write-locking) transaction; SQLite busy errors become 503. */
  write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      throw this.mapError(e);
    }
  }

  read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw this.mapError(e);
    }
  }

  private mapError(e: unknown): unknown {
    if (e instanceof AppError) return e;
    const code = (e as { code?: string }).code ?? '';
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
