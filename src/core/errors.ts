/**
 * One error type for the whole of carprice. Every failure a user can cause or meet carries
 * a code from the closed union below; the code decides the HTTP status (serving, tracking
 * server) and the process exit code (CLI), in exactly one place per entrypoint.
 *
 * Tracking and registry errors use MLflow's own error_code names so the wire format is
 * MLflow's (see ../shared/reference/mlflow-rest-api.md §1.4).
 */

/** MLflow's error codes (databricks.proto), used verbatim on the wire. */
export const MLFLOW_CODES = [
  'INVALID_PARAMETER_VALUE',
  'BAD_REQUEST',
  'RESOURCE_ALREADY_EXISTS',
  'CUSTOMER_UNAUTHORIZED',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'RESOURCE_DOES_NOT_EXIST',
  'NOT_FOUND',
  'ENDPOINT_NOT_FOUND',
  'ALREADY_EXISTS',
  'ABORTED',
  'RESOURCE_CONFLICT',
  'REQUEST_LIMIT_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'CANCELLED',
  'INTERNAL_ERROR',
  'INVALID_STATE',
  'DATA_LOSS',
  'NOT_IMPLEMENTED',
  'TEMPORARILY_UNAVAILABLE',
  'DEADLINE_EXCEEDED',
] as const;

/** carprice's own codes, for everything that is not the MLflow wire. */
export const APP_CODES = [
  'USAGE', // bad CLI flags or arguments
  'CONFIG_INVALID', // params.yaml or env var fails its schema
  'FILE_NOT_FOUND',
  'FILE_UNREADABLE',
  'FILE_UNWRITABLE', // a file or directory cannot be written (full disk, read-only, permissions)
  'DATA_INVALID', // a data file read but failing validation
  'DATA_EMPTY',
  'FORMAT_UNKNOWN', // saved artifact of unknown kind
  'FORMAT_VERSION', // saved artifact of unsupported formatVersion
  'MODEL_INVALID', // estimator/bundle misuse (predict before fit, shape mismatch)
  'MODEL_NOT_FOUND', // no model bundle at the path given
  'NUMERIC', // numeric failure (singular matrix that could not be recovered)
  'INPUT_INVALID', // prediction input fails the feature schema
  'NETWORK', // remote source unreachable
  'REMOTE', // remote storage (S3, http) failure
  'PIPELINE_INVALID', // dvc.yaml / dvc.lock / .dvc schema
  'PIPELINE_STAGE_FAILED',
  'PIPELINE_LOCKED',
  'CACHE_MISSING',
  'INTERRUPTED',
  'DEPLOY_FAILED',
  'HEALTH_CHECK_FAILED',
  'MODEL_NOT_READY',
] as const;

export type MlflowCode = (typeof MLFLOW_CODES)[number];
export type AppCode = (typeof APP_CODES)[number];
export type ErrorCode = MlflowCode | AppCode;

const ALL_CODES: ReadonlySet<string> = new Set<string>([...MLFLOW_CODES, ...APP_CODES]);

/** True for a known error code (e.g. one that crossed a worker-thread boundary as a string). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && ALL_CODES.has(code);
}

/** Extra structured facts about an error (file, line, field, value...). Never secrets. */
export interface ErrorDetails {
  [key: string]: unknown;
}

/** The single error class. `message` is written for the user: what, where, what next. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: ErrorDetails }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'AppError';
    this.code = code;
    this.details = options?.details;
  }
}

/** True when `e` is an AppError (optionally with the given code). */
export function isAppError(e: unknown, code?: ErrorCode): e is AppError {
  return e instanceof AppError && (code === undefined || e.code === code);
}

const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_PARAMETER_VALUE: 400,
  BAD_REQUEST: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  CUSTOMER_UNAUTHORIZED: 401,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_DOES_NOT_EXIST: 404,
  NOT_FOUND: 404,
  ENDPOINT_NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  RESOURCE_CONFLICT: 409,
  REQUEST_LIMIT_EXCEEDED: 429,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL_ERROR: 500,
  INVALID_STATE: 500,
  DATA_LOSS: 500,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
  USAGE: 400,
  CONFIG_INVALID: 400,
  FILE_NOT_FOUND: 404,
  FILE_UNREADABLE: 400,
  FILE_UNWRITABLE: 500,
  DATA_INVALID: 400,
  DATA_EMPTY: 400,
  FORMAT_UNKNOWN: 400,
  FORMAT_VERSION: 400,
  MODEL_INVALID: 400,
  MODEL_NOT_FOUND: 404,
  NUMERIC: 422,
  INPUT_INVALID: 400,
  NETWORK: 502,
  REMOTE: 502,
  PIPELINE_INVALID: 400,
  PIPELINE_STAGE_FAILED: 500,
  PIPELINE_LOCKED: 409,
  CACHE_MISSING: 404,
  INTERRUPTED: 499,
  DEPLOY_FAILED: 500,
  HEALTH_CHECK_FAILED: 503,
  MODEL_NOT_READY: 503,
};

/** HTTP status for an error code (MLflow's table for MLflow codes). */
export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code] ?? 500;
}

/**
 * Process exit code for an error code: the table in README.md ("Exit codes"), tested by
 * test/integration/exit-codes.test.ts. 2 = usage, 3 = config, 4 = input data/files,
 * 5 = model (bundle, run, registered model or version missing, damaged or unsupported),
 * 6 = remote/network (unreachable, refused credentials, rate limits), 7 = pipeline,
 * 8 = deploy, 130 = interrupted, 1 = internal error (a bug: please report it).
 */
export function exitCodeOf(code: ErrorCode): number {
  switch (code) {
    case 'USAGE':
    case 'INVALID_PARAMETER_VALUE':
    case 'BAD_REQUEST':
    case 'RESOURCE_ALREADY_EXISTS':
    case 'ALREADY_EXISTS':
      return 2;
    case 'CONFIG_INVALID':
    case 'DATA_LOSS': // a damaged tracking database: the file, not a bug (a 500 on the wire, as MLflow's)
      return 3;
    case 'FILE_NOT_FOUND':
    case 'FILE_UNREADABLE':
    case 'FILE_UNWRITABLE':
    case 'DATA_INVALID':
    case 'DATA_EMPTY':
    case 'INPUT_INVALID':
      return 4;
    case 'FORMAT_UNKNOWN':
    case 'FORMAT_VERSION':
    case 'MODEL_INVALID':
    case 'NUMERIC':
    case 'MODEL_NOT_READY':
    case 'MODEL_NOT_FOUND':
    case 'RESOURCE_DOES_NOT_EXIST':
    case 'NOT_FOUND':
      return 5;
    case 'NETWORK':
    case 'REMOTE':
    case 'UNAUTHENTICATED':
    case 'CUSTOMER_UNAUTHORIZED':
    case 'PERMISSION_DENIED':
    case 'ENDPOINT_NOT_FOUND':
    case 'REQUEST_LIMIT_EXCEEDED':
    case 'RESOURCE_EXHAUSTED':
    case 'TEMPORARILY_UNAVAILABLE':
    case 'DEADLINE_EXCEEDED':
      return 6;
    case 'PIPELINE_INVALID':
    case 'PIPELINE_STAGE_FAILED':
    case 'PIPELINE_LOCKED':
    case 'CACHE_MISSING':
      return 7;
    case 'DEPLOY_FAILED':
    case 'HEALTH_CHECK_FAILED':
      return 8;
    case 'INTERRUPTED':
      return 130;
    default:
      return 1;
  }
}

/**
 * The error for a server that cannot listen on host:port, with the fix its errno calls for
 * (port taken, privileged port, an address that is not this machine's).
 */
export function listenError(host: string, port: number, e: unknown): AppError {
  const code = (e as { code?: unknown } | undefined)?.code;
  const fix =
    code === 'EADDRINUSE'
      ? 'pick another --port (or stop what listens there)'
      : code === 'EACCES'
        ? 'ports below 1024 need privileges: pick a --port from 1024 up'
        : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? `check --host: ${host} is not an address of this machine (127.0.0.1 listens locally, 0.0.0.0 everywhere)`
          : 'check --host and --port';
  const text = e instanceof Error ? e.message : String(e);
  return new AppError('USAGE', `cannot listen on ${host}:${port}: ${text}; ${fix}`, { cause: e });
}
