/** `carprice tracking migrate`: bring a tracking database's schema up to date, in place. */
import { AppError } from '../../core/errors.js';
import type { Command } from '../command.js';
import { TRACKING_PARAMS_OPTIONS, trackingUriFromFlags } from './tracking-flags.js';

export const trackingMigrateCommand: Command = {
  name: 'tracking migrate',
  summary: 'Upgrade a tracking database (PostgreSQL or SQLite) to the current schema, in place',
  help: `Usage: carprice tracking migrate [--backend-store-uri URI]

Applies the pending schema migrations. Safe to run while servers start: on PostgreSQL an
advisory lock makes concurrent migrations run once; on SQLite an immediate transaction does.
  --backend-store-uri  postgresql://user@host:5432/db or sqlite:///path.db (default:
                       $MLFLOW_TRACKING_URI, else params.yaml mlflow.tracking_uri, else .carprice/mlflow.db)
  --params FILE        params file (default: $CARPRICE_PARAMS or ./params.yaml)
  --set KEY=VALUE      override a params key
Credentials: in the URI, PGUSER/PGPASSWORD, or CARPRICE_PG_PASSWORD_FILE; never printed.
Example: carprice tracking migrate --backend-store-uri postgresql://mlflow@db:5432/mlflow`,
  options: {
    'backend-store-uri': { type: 'string' },
    ...TRACKING_PARAMS_OPTIONS,
  },
  async run(args, ctx) {
    const uri = await trackingUriFromFlags(args, ctx, 'backend-store-uri');
    const { isPostgresUri, pgConnectionFromUri } = await import('../../tracking/postgres/pg-uri.js');
    if (isPostgresUri(uri)) {
      const { connection, where } = pgConnectionFromUri(uri, ctx.env);
      const { migratePgDatabase } = await import('../../tracking/postgres/pg-migrate-database.js');
      const r = await migratePgDatabase(connection, where);
      ctx.stdout.write(
        r.applied.length
          ? `migrated ${where} from schema ${r.from} to ${r.to} (applied ${r.applied.join(', ')})\n`
          : `${where} is up to date (schema ${r.to})\n`,
      );
      return;
    }
    if (uri.startsWith('sqlite:')) {
      const { sqlitePathOf } = await import('../../tracking/resolve-store.js');
      const { SqliteTrackingStore } = await import('../../tracking/sqlite/sqlite-tracking-store.js');
      const { dirname, join } = await import('node:path');
      const path = sqlitePathOf(uri, ctx.cwd);
      const store = new SqliteTrackingStore({ path, defaultArtifactRoot: join(dirname(path), 'mlartifacts') });
      await store.close();
      ctx.stdout.write(`${path} is up to date\n`);
      return;
    }
    throw new AppError(
      'USAGE',
      `tracking migrate needs a database URI (postgresql://... or sqlite:///...), got '${uri.replace(/\/\/[^@/]*@/, '//***@')}'; an MLflow server migrates its own database`,
    );
  },
};
