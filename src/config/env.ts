/**
 * The declared environment variables: the only place in carprice that reads process.env.
 * Everything else receives the frozen `Env` object. Secrets (passwords, tokens, AWS keys)
 * are held here and never printed: `describeEnv` masks them.
 */

/** Every environment variable carprice reads, with what it is for. */
export const ENV_VARS = {
  MLFLOW_TRACKING_URI: 'tracking store URI: sqlite:///path.db, http(s)://server, or a DagsHub .mlflow URL',
  MLFLOW_TRACKING_USERNAME: 'basic-auth user for a remote MLflow server (DagsHub: your user name)',
  MLFLOW_TRACKING_PASSWORD: 'basic-auth password for a remote MLflow server (DagsHub: your token)',
  MLFLOW_TRACKING_TOKEN: 'bearer token for a remote MLflow server (used when no user/password)',
  MLFLOW_HTTP_REQUEST_MAX_RETRIES: 'retries on 408/429/5xx from a remote MLflow server (default 5)',
  MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: 'seconds multiplied by 1, 2, 4... between retries (default 2)',
  MLFLOW_HTTP_REQUEST_TIMEOUT: 'seconds before a request to a remote MLflow server times out (default 120)',
  MLFLOW_S3_ENDPOINT_URL: 'S3-compatible endpoint for artifacts (MinIO, s3rver...)',
  AWS_ENDPOINT_URL_S3: 'S3-compatible endpoint (AWS SDK convention); used when MLFLOW_S3_ENDPOINT_URL is unset',
  AWS_ENDPOINT_URL: 'generic AWS endpoint override',
  AWS_REGION: 'AWS region for S3 (default us-east-1)',
  AWS_DEFAULT_REGION: 'AWS region (fallback)',
  AWS_ACCESS_KEY_ID: 'AWS access key (read by the AWS SDK)',
  AWS_SECRET_ACCESS_KEY: 'AWS secret key (read by the AWS SDK)',
  AWS_SESSION_TOKEN: 'AWS session token (read by the AWS SDK)',
  AWS_PROFILE: 'AWS profile (read by the AWS SDK)',
  PGHOST: 'PostgreSQL host for a postgresql:// tracking URI without one (default localhost)',
  PGPORT: 'PostgreSQL port for a postgresql:// tracking URI without one (default 5432)',
  PGUSER: 'PostgreSQL user for a postgresql:// tracking URI without one',
  PGPASSWORD: 'PostgreSQL password for a postgresql:// tracking URI without one',
  PGDATABASE: 'PostgreSQL database for a postgresql:// tracking URI without one',
  CARPRICE_PG_PASSWORD_FILE: 'file holding the PostgreSQL password (used when neither the URI nor PGPASSWORD has one)',
  CARPRICE_PG_POOL_MAX: 'PostgreSQL tracking store: most pooled connections per process (default 10)',
  CARPRICE_PG_CONNECT_TIMEOUT_MS: 'PostgreSQL tracking store: connect timeout in ms (default 10000)',
  CARPRICE_PG_STATEMENT_TIMEOUT_MS: 'PostgreSQL tracking store: per-statement timeout in ms (default 30000)',
  CARPRICE_PARAMS: 'path of params.yaml (default ./params.yaml)',
  CARPRICE_LOG_LEVEL:
    'diagnostic logs (pino JSON) on stderr at this level: trace, debug, info, warn, error (default: off)',
  CARPRICE_TRACKING_USERS: 'users for `carprice tracking serve` basic auth: user:password[,user:password...]',
  MLFLOW_SERVER_ALLOWED_HOSTS:
    'Host headers `carprice tracking serve` accepts, comma-separated fnmatch patterns (default: localhost and private addresses)',
  MLFLOW_SERVER_CORS_ALLOWED_ORIGINS:
    'origins allowed to send state-changing requests to `carprice tracking serve` cross-origin, comma-separated',
  CARPRICE_DATA_URL: 'default raw-data source (path, http(s):// or s3:// URL) overriding params.yaml',
  CARPRICE_MAX_INPUT_MB:
    'largest listings file (MB; an .xlsx counts 10x) read whole into memory, by training and by non-CSV or remote inputs (default: 1/256 of the RAM, at least 64)',
  CARPRICE_THREADS:
    'worker threads for training (independent fits of blend members; default: the cores available, 1 = no workers)',
  CARPRICE_MODEL_DIR:
    'model bundle directory `carprice serve` falls back to when the registry is unreachable (a bundle baked into an image)',
  CARPRICE_API_TOKEN: 'bearer token the prediction API requires on /predict, /predict/batch and /explain (unset: open)',
  HOST: 'address the API server binds to (default 0.0.0.0 in containers)',
  PORT: 'port the API server listens on (default 8000)',
  COLUMNS:
    'output width for `dag` drawings (as in DVC: trailing spaces past it are cut; default: the terminal width, or 80)',
  NO_COLOR: 'disable colours and progress bars on the terminal',
  CI: 'set by CI systems; disables progress bars',
} as const;

export type EnvName = keyof typeof ENV_VARS;
export type Env = Readonly<Partial<Record<EnvName, string>>>;

const SECRET: ReadonlySet<EnvName> = new Set<EnvName>([
  'MLFLOW_TRACKING_PASSWORD',
  'PGPASSWORD',
  'MLFLOW_TRACKING_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'CARPRICE_TRACKING_USERS',
  'CARPRICE_API_TOKEN',
]);

/** Read the declared variables (empty strings count as unset) and freeze them. */
export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const out: Partial<Record<EnvName, string>> = {};
  for (const name of Object.keys(ENV_VARS) as EnvName[]) {
    const value = source[name];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return Object.freeze(out);
}

/** The set variables with secrets masked, for diagnostics. */
export function describeEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(env)) out[k] = SECRET.has(k as EnvName) ? '***' : val;
  return out;
}

/**
 * The whole environment handed to child processes (pipeline stage commands inherit
 * everything, exactly like DVC's), plus `overrides`. The only other reader of
 * process.env; it is never logged.
 */
export function childProcessEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(process.env)) if (val !== undefined) out[k] = val;
  return Object.assign(out, overrides);
}

/**
 * Settings of dependencies that carprice makes for its own processes (the CLI calls this
 * once at start; child processes inherit them), each only when the user has not set it:
 * the AWS SDK's notice that its releases after January 2027 need Node 22 is turned off (a
 * 9-line warning on stderr before every S3 error or result; the SDK version is pinned by
 * package-lock.json, and the project supports Node 20).
 */
export function applyProcessDefaults(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
