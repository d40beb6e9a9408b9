/**
 * Schema snapshot: the schema the migrations produce must equal schema-snapshot.sql,
 * byte for byte. Changing the schema means adding a migration AND updating the snapshot,
 * so a schema change is always deliberate and reviewed. Also checks that migrating twice
 * is a no-op and that a database from a newer carprice is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import { SqliteTrackingStore } from './sqlite-tracking-store.js';
import { isAppError } from '../../core/errors.js';

const snapshotPath = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../src/tracking/sqlite/schema-snapshot.sql',
);

/** The schema as text: every table and index statement, sorted by name. */
export function dumpSchema(db: Database.Database): string {
  const rows = db
    .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as { name: string; sql: string }[];
  return rows.map((r) => `${r.sql.trim()};`).join('\n\n') + '\n';
}

test('migrations produce the snapshotted schema', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-schema-'));
  try {
    const db = new Database(join(dir, 't.db'));
    assert.equal(migrate(db, 't.db'), SCHEMA_VERSION);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(dumpSchema(db), readFileSync(snapshotPath, 'utf8'));
    assert.equal(migrate(db, 't.db'), SCHEMA_VERSION); // idempotent
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database from a newer carprice is refused with FORMAT_VERSION', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-schema-'));
  try {
    const path = join(dir, 'new.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(
      () => new SqliteTrackingStore({ path, defaultArtifactRoot: dir }),
      (e) => isAppError(e, 'FORMAT_VERSION'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
