/**
 * PostgreSQL migrations on a throwaway cluster: the migrated schema equals
 * src/tracking/postgres/schema-snapshot.sql (regenerate with UPDATE_PG_SNAPSHOT=1 after
 * adding a migration), re-running is a no-op, two stores opening one empty database at
 * once migrate it once, and a database from a newer carprice is refused.
 */
import { after, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { isAppError } from '../../src/core/errors.js';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from '../../src/tracking/postgres/pg-migrations.js';
import { migratePgDatabase } from '../../src/tracking/postgres/pg-migrate-database.js';
import { PgTrackingStore } from '../../src/tracking/postgres/pg-tracking-store.js';
import { startPostgres, type PgCluster } from '../helpers/postgres-cluster.js';
import { runBuiltCli } from '../helpers/built-cli.js';
import { tmpdir } from 'node:os';

const snapshotPath = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../src/tracking/postgres/schema-snapshot.sql',
);

/** Tables (columns with type, nullability, default, collation), constraints and indexes, sorted. */
async function dumpSchema(c: pg.Client): Promise<string> {
  const cols = await c.query<{ t: string; line: string }>(`
    SELECT table_name AS t, format('  %s %s%s%s%s', column_name, data_type,
      CASE WHEN collation_name IS NOT NULL THEN ' COLLATE "' || collation_name || '"' ELSE '' END,
      CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END,
      CASE WHEN column_default IS NOT NULL THEN ' DEFAULT ' || column_default ELSE '' END) AS line
    FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`);
  const cons = await c.query<{ t: string; line: string }>(`
    SELECT rel.relname AS t, format('  CONSTRAINT %s %s', con.conname, pg_get_constraintdef(con.oid)) AS line
    FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace n ON n.oid = rel.relnamespace
    WHERE n.nspname = 'public' ORDER BY rel.relname, con.conname`);
  const idx = await c.query<{ line: string }>(
    `SELECT indexdef || ';' AS line FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname`,
  );
  const tables = new Map<string, string[]>();
  for (const r of [...cols.rows, ...cons.rows]) tables.set(r.t, [...(tables.get(r.t) ?? []), r.line]);
  const out = [...tables.keys()].sort().map((t) => `TABLE ${t}\n${(tables.get(t) ?? []).join('\n')}`);
  return `${out.join('\n\n')}\n\n${idx.rows.map((r) => r.line).join('\n')}\n`;
}

const ALL_VERSIONS = PG_MIGRATIONS.map((m) => m.version);

const cluster = await startPostgres();
if (typeof cluster === 'string') {
  test('PostgreSQL migrations', { skip: cluster }, () => {});
} else {
  describe('PostgreSQL migrations', () => {
    const c: PgCluster = cluster;
    after(() => c.stop());

    it('produce the snapshotted schema, and re-running is a no-op', async () => {
      const conn = await c.newDatabase();
      const first = await migratePgDatabase(conn, conn.uri);
      assert.deepEqual(first, { from: 0, to: PG_SCHEMA_VERSION, applied: ALL_VERSIONS });
      const client = new pg.Client(conn);
      await client.connect();
      try {
        const schema = await dumpSchema(client);
        if (process.env.UPDATE_PG_SNAPSHOT) writeFileSync(snapshotPath, schema);
        assert.equal(schema, readFileSync(snapshotPath, 'utf8'));
      } finally {
        await client.end();
      }
      assert.deepEqual(await migratePgDatabase(conn, conn.uri), {
        from: PG_SCHEMA_VERSION,
        to: PG_SCHEMA_VERSION,
        applied: [],
      });
    });

    it('two stores starting at once on an empty database migrate it once', async () => {
      const conn = await c.newDatabase();
      const stores = [0, 1, 2].map(
        () => new PgTrackingStore({ connection: conn, where: conn.uri, defaultArtifactRoot: '/tmp/a' }),
      );
      try {
        await Promise.all(stores.map((s) => s.open()));
        const exps = await Promise.all(stores.map((s) => s.getExperiment('0')));
        assert.ok(exps.every((e) => e.name === 'Default'));
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
      const client = new pg.Client(conn);
      await client.connect();
      try {
        const rows = await client.query('SELECT version FROM carprice_schema_migrations ORDER BY version');
        assert.deepEqual(
          rows.rows,
          ALL_VERSIONS.map((version) => ({ version })),
        );
      } finally {
        await client.end();
      }
    });

    it('refuses a database from a newer carprice with FORMAT_VERSION', async () => {
      const conn = await c.newDatabase();
      await migratePgDatabase(conn, conn.uri);
      const client = new pg.Client(conn);
      await client.connect();
      await client.query(
        `INSERT INTO carprice_schema_migrations (version, description) VALUES (${PG_SCHEMA_VERSION + 1}, 'future')`,
      );
      await client.end();
      const store = new PgTrackingStore({ connection: conn, where: conn.uri, defaultArtifactRoot: '/tmp/a' });
      try {
        await assert.rejects(store.getExperiment('0'), (e) => isAppError(e, 'FORMAT_VERSION'));
      } finally {
        await store.close();
      }
    });

    it('answers an unreachable server with a one-line TEMPORARILY_UNAVAILABLE', async () => {
      const store = new PgTrackingStore({
        connection: {
          host: '127.0.0.1',
          port: 1,
          user: 'x',
          password: 'secret-pw',
          database: 'x',
          connectTimeoutMs: 2000,
        },
        where: 'postgresql://x:***@127.0.0.1:1/x',
        defaultArtifactRoot: '/tmp/a',
      });
      try {
        await assert.rejects(
          store.getExperiment('0'),
          (e) =>
            isAppError(e, 'TEMPORARILY_UNAVAILABLE') && !e.message.includes('secret-pw') && !e.message.includes('\n'),
        );
      } finally {
        await store.close();
      }
    });

    it('carprice tracking migrate upgrades a database in place, then says it is up to date, never printing the password', async () => {
      const conn = await c.newDatabase();
      // trust auth ignores the password; it must still never reach the output
      const uri = conn.uri.replace('carprice@', 'carprice:s3cret-pw@');
      const first = await runBuiltCli(['tracking', 'migrate', '--backend-store-uri', uri], tmpdir());
      assert.equal(first.code, 0, first.stderr);
      assert.match(
        first.stdout,
        new RegExp(`^migrated .* from schema 0 to ${PG_SCHEMA_VERSION} \\(applied ${ALL_VERSIONS.join(', ')}\\)\\n$`),
      );
      const again = await runBuiltCli(['tracking', 'migrate', '--backend-store-uri', uri], tmpdir());
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`is up to date \\(schema ${PG_SCHEMA_VERSION}\\)`));
      for (const r of [first, again]) assert.ok(!(r.stdout + r.stderr).includes('s3cret-pw'), 'password printed');
      const store = new PgTrackingStore({ connection: conn, where: conn.uri, defaultArtifactRoot: '/tmp/a' });
      try {
        assert.equal((await store.getExperiment('0')).name, 'Default');
      } finally {
        await store.close();
      }
    });

    it('carprice tracking migrate upgrades a version-1 database holding runs, keeping them searchable', async () => {
      const conn = await c.newDatabase();
      const client = new pg.Client(conn);
      await client.connect();
      try {
        // The database as carprice's first PostgreSQL release left it: schema 1 only.
        await client.query(
          'CREATE TABLE carprice_schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
        );
        await client.query(PG_MIGRATIONS[0].sql);
        await client.query(`INSERT INTO carprice_schema_migrations (version, description) VALUES (1, 'v1')`);
        await client.query(
          `INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time) VALUES (0, 'Default', '/tmp/a/0', 1, 1)`,
        );
        for (const [i, rmse] of [0.3, 0.1, Number.NaN, 0.2].entries()) {
          await client.query(
            `INSERT INTO runs (run_uuid, name, experiment_id, status, start_time, artifact_uri) VALUES ($1, $2, 0, 'FINISHED', $3, '/tmp/a')`,
            [`run${i}`, `n${i}`, 100 + i],
          );
          await client.query(
            `INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES ($1, 'rmse', $2, $3, 1, 0)`,
            [`run${i}`, Number.isNaN(rmse) ? 0 : rmse, Number.isNaN(rmse) ? 1 : 0],
          );
        }
      } finally {
        await client.end();
      }
      const r = await runBuiltCli(['tracking', 'migrate', '--backend-store-uri', conn.uri], tmpdir());
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(`from schema 1 to ${PG_SCHEMA_VERSION} \\(applied ${ALL_VERSIONS.slice(1).join(', ')}\\)`),
      );
      const store = new PgTrackingStore({ connection: conn, where: conn.uri, defaultArtifactRoot: '/tmp/a' });
      try {
        const page = await store.searchRuns({ experimentIds: ['0'], orderBy: ['metrics.rmse ASC'] });
        assert.deepEqual(
          page.items.map((run) => run.info.runName),
          ['n1', 'n3', 'n0', 'n2'],
        );
      } finally {
        await store.close();
      }
    });

    it('carprice tracking migrate refuses an MLflow server URI with what to do', async () => {
      const r = await runBuiltCli(['tracking', 'migrate', '--backend-store-uri', 'http://127.0.0.1:5000'], tmpdir());
      assert.equal(r.code, 2);
      assert.match(r.stderr, /needs a database URI .*an MLflow server migrates its own database/);
    });
  });
}
