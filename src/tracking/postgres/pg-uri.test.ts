import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAppError } from '../../core/errors.js';
import { isPostgresUri, pgConnectionFromUri, redactPgUri } from './pg-uri.js';

test('postgresql URIs are recognised, SQLAlchemy driver suffixes included', () => {
  for (const u of ['postgresql://h/db', 'postgres://h/db', 'postgresql+psycopg2://h/db'])
    assert.ok(isPostgresUri(u), u);
  for (const u of ['sqlite:///x.db', 'http://h', 'pg://h/db']) assert.ok(!isPostgresUri(u), u);
});

test('the password never appears in the printable form', () => {
  assert.equal(redactPgUri('postgresql://alice:s3cr%40t@db:5432/mlflow'), 'postgresql://alice:***@db:5432/mlflow');
  assert.equal(redactPgUri('postgresql://alice@db/mlflow'), 'postgresql://alice@db/mlflow');
  const { where, connection } = pgConnectionFromUri('postgresql://alice:s3cr%40t@db:6543/mlflow?sslmode=require', {});
  assert.ok(!where.includes('s3cr'));
  assert.deepEqual(
    [connection.host, connection.port, connection.user, connection.password, connection.database, connection.ssl],
    ['db', 6543, 'alice', 's3cr@t', 'mlflow', true],
  );
});

test('credentials and pool settings fall back to PG* variables, then the password file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-pguri-'));
  try {
    const file = join(dir, 'pw');
    writeFileSync(file, 'from-file\n');
    const a = pgConnectionFromUri('postgresql:///', {
      PGHOST: 'h',
      PGPORT: '5433',
      PGUSER: 'u',
      PGPASSWORD: 'p',
      PGDATABASE: 'd',
      CARPRICE_PG_POOL_MAX: '4',
    });
    assert.deepEqual(
      [
        a.connection.host,
        a.connection.port,
        a.connection.user,
        a.connection.password,
        a.connection.database,
        a.connection.max,
      ],
      ['h', 5433, 'u', 'p', 'd', 4],
    );
    const b = pgConnectionFromUri('postgresql://u@h/d', { CARPRICE_PG_PASSWORD_FILE: file });
    assert.equal(b.connection.password, 'from-file');
    assert.throws(
      () => pgConnectionFromUri('postgresql://u@h/d', { CARPRICE_PG_PASSWORD_FILE: join(dir, 'missing') }),
      (e) => isAppError(e, 'CONFIG_INVALID') && /CARPRICE_PG_PASSWORD_FILE/.test(e.message),
    );
    assert.throws(
      () => pgConnectionFromUri('postgresql://h', {}),
      (e) => isAppError(e, 'CONFIG_INVALID') && /no database/.test(e.message),
    );
    assert.throws(
      () => pgConnectionFromUri('postgresql://h/d', { CARPRICE_PG_POOL_MAX: 'lots' }),
      (e) => isAppError(e, 'CONFIG_INVALID') && /CARPRICE_PG_POOL_MAX/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
