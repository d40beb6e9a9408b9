/**
 * Optional HTTP basic auth for the tracking server, answering as MLflow's basic-auth app
 * does (401, `WWW-Authenticate: Basic realm="mlflow"`, text/plain). Users come from
 * `user:password[,user:password...]` (CARPRICE_TRACKING_USERS). The scheme name is
 * case-insensitive (RFC 7617: `basic` = `Basic`); passwords compare in constant time.
 * A spec that cannot be what was meant is a configuration error, never silently
 * weakened: an empty user or password (`alice:`), an entry without ':' (`alice:secret,bob`),
 * a user listed twice.
 */
import type { FastifyInstance } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { AppError } from '../../core/errors.js';

const FORMAT = 'CARPRICE_TRACKING_USERS must be user:password[,user:password...]';

/** Parse the users spec; undefined or blank = no users (an open server). */
export function parseUsers(spec: string | undefined): Map<string, string> {
  const users = new Map<string, string>();
  if (spec === undefined || spec.trim() === '') return users;
  spec.split(',').forEach((entry, n) => {
    const where = `entry ${n + 1}`;
    const i = entry.indexOf(':');
    if (i < 0)
      throw new AppError(
        'CONFIG_INVALID',
        `${FORMAT}; ${where} ('${entry.trim()}') has no ':password' (a password cannot contain ',')`,
      );
    const user = entry.slice(0, i).trim();
    const pass = entry.slice(i + 1);
    if (!user) throw new AppError('CONFIG_INVALID', `${FORMAT}; ${where} has an empty user name`);
    if (!pass) throw new AppError('CONFIG_INVALID', `${FORMAT}; user '${user}' has an empty password`);
    if (users.has(user)) throw new AppError('CONFIG_INVALID', `${FORMAT}; user '${user}' is listed twice`);
    users.set(user, pass);
  });
  return users;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The user an Authorization header proves, or undefined. */
export function authenticatedUser(users: ReadonlyMap<string, string>, header: string | undefined): string | undefined {
  const m = /^basic[ \t]+([A-Za-z0-9+/=._~-]+)[ \t]*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i <= 0) return undefined;
  const user = decoded.slice(0, i);
  const pass = users.get(user);
  return pass !== undefined && sameSecret(pass, decoded.slice(i + 1)) ? user : undefined;
}

const NOT_AUTHENTICATED =
  'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.';

/** Require one of `users` on every route but /health (no-op when there are none). */
export function registerBasicAuth(app: FastifyInstance, users: ReadonlyMap<string, string>): void {
  if (users.size === 0) return;
  app.addHook('onRequest', async (req, reply) => {
    if (req.url === '/health' || req.method === 'OPTIONS') return;
    if (authenticatedUser(users, req.headers.authorization) !== undefined) return;
    return reply
      .status(401)
      .header('WWW-Authenticate', 'Basic realm="mlflow"')
      .type('text/plain')
      .send(NOT_AUTHENTICATED);
  });
}
