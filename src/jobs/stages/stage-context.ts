/**
 * What every pipeline stage receives: params, the project root, the environment, a
 * logger, an abort signal, a clock, and a way to report progress lines to the terminal.
 * Stage paths come from params (each section's output_dir) resolved against `cwd`.
 */
import { isAbsolute, join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Env } from '../../config/env.js';
import type { Params } from '../../config/params.js';
import { TrackingClient } from '../../tracking/client.js';

export interface StageContext {
  params: Params;
  cwd: string;
  env: Env;
  logger?: Logger;
  signal?: AbortSignal;
  clock?: Clock;
  /** Progress lines (stderr in the CLI). */
  report?: (line: string) => void;
}

/** A project path (absolute paths and URLs pass through). */
export function projectPath(ctx: StageContext, p: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(p) || isAbsolute(p) ? p : join(ctx.cwd, p);
}

/** The stage folders, from params. */
export function stagePaths(ctx: StageContext) {
  const p = ctx.params;
  const ingestion = projectPath(ctx, p.data_ingestion.output_dir);
  const transformation = projectPath(ctx, p.data_transformation.output_dir);
  const trainer = projectPath(ctx, p.model_trainer.output_dir);
  const evaluation = projectPath(ctx, p.evaluation.output_dir);
  const registration = projectPath(ctx, p.model_registration.output_dir);
  return {
    raw: join(ingestion, 'raw.csv'),
    train: join(ingestion, 'train.csv'),
    test: join(ingestion, 'test.csv'),
    transformation,
    model: join(trainer, 'model'),
    runInfo: join(trainer, 'run_info.json'),
    metrics: join(evaluation, 'metrics.json'),
    evaluationInfo: join(evaluation, 'evaluation_info.json'),
    registration: join(registration, 'registration.json'),
  };
}

/** Open the tracking client for the URI in force (env, params.yaml, embedded default). */
export function openTracking(ctx: StageContext): TrackingClient {
  return TrackingClient.open({
    env: ctx.env,
    paramsUri: ctx.params.mlflow.tracking_uri,
    cwd: ctx.cwd,
    logger: ctx.logger,
    clock: ctx.clock,
  });
}

/** A tracking URI safe to write into files and logs (no user:password@). */
export function redactUri(uri: string): string {
  return uri.replace(/^(\w+:\/\/)[^@/]*@/, '$1');
}
