/**
 * What every `carprice exp` experiment shares: the training split it works on (the
 * seeded split of the raw listings, so the test rows stay unseen), params with a few keys
 * overridden, progress reports, and tracked runs: one parent run per experiment with one
 * nested run per candidate. A candidate that fails ends its run FAILED and the experiment
 * goes on; an interruption (Ctrl-C) ends the running child and the parent as KILLED and
 * keeps the children already finished.
 */
import { AppError, isAppError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Env } from '../../config/env.js';
import { applyOverrides, parseParams, type Params } from '../../config/params.js';
import { takeFrameRows, takeValues } from '../../data/frame.js';
import { splitIndices } from '../../data/split.js';
import type { ValidatedListings } from '../../data/validate.js';
import type { RunInfo, RunStatus } from '../../tracking/entities.js';
import type { TrackingClient } from '../../tracking/client.js';
import { loadListings } from '../load-listings.js';
import { join } from 'node:path';

/** Progress of an experiment: `done` of `total` candidates, the one running now. */
export interface ExperimentProgress {
  done: number;
  total: number;
  label: string;
}

export interface ExperimentOptions {
  params: Params;
  cwd: string;
  env: Env;
  client: TrackingClient;
  /** Listings with prices (default params.yaml data_source.raw_data); the seeded training part is used. */
  data?: string;
  /** Tracking experiment name (each experiment has its own default). */
  experimentName?: string;
  logger?: Logger;
  signal?: AbortSignal;
  clock?: Clock;
  onProgress?: (p: ExperimentProgress) => void;
  /** Lines for people (stderr in the CLI). */
  report?: (line: string) => void;
}

/** Params with `key=value` overrides applied and validated again. */
export function withOverrides(params: Params, sets: readonly string[]): Params {
  if (!sets.length) return params;
  return parseParams(applyOverrides(structuredClone(params), sets), '--set');
}

/** The training part of the seeded split (and the test part, for a final score). */
export async function trainingSplit(
  o: Pick<ExperimentOptions, 'params' | 'cwd' | 'env' | 'data' | 'signal'>,
): Promise<{ train: ValidatedListings; test: ValidatedListings; source: string }> {
  const p = o.params;
  const source = o.data ?? p.data_source.raw_data;
  const abs = /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || source.startsWith('/') ? source : `${o.cwd}/${source}`;
  const all = await loadListings(abs, { params: p, env: o.env, signal: o.signal, requireTarget: true });
  const s = splitIndices(all.frame.nRows, p.data_ingestion.test_size, p.data_ingestion.random_state);
  const part = (idx: ArrayLike<number>): ValidatedListings => ({
    ...all,
    frame: takeFrameRows(all.frame, idx),
    y: takeValues(all.y!, idx),
    rowNumbers: Array.from(idx, (i) => all.rowNumbers[i]),
  });
  return { train: part(s.train), test: part(s.test), source };
}

function endStatus(e: unknown): RunStatus {
  return isAppError(e, 'INTERRUPTED') ? 'KILLED' : 'FAILED';
}

/** Throw INTERRUPTED when the signal fired (checked between candidates). */
export function checkInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new AppError('INTERRUPTED', 'experiment interrupted; finished candidates are kept in the tracking store');
}

/** Run `body` inside a parent run: FINISHED when it returns, KILLED when interrupted, FAILED otherwise. */
export async function withParentRun<T>(
  client: TrackingClient,
  o: {
    experimentName: string;
    runName: string;
    tags?: Record<string, string>;
    params?: Record<string, string | number | boolean>;
  },
  body: (run: RunInfo) => Promise<T>,
): Promise<T> {
  const run = await client.startRun({ experimentName: o.experimentName, runName: o.runName, tags: o.tags });
  try {
    if (o.params) await client.logParams(run.runId, o.params);
    const out = await body(run);
    await client.endRun(run.runId, 'FINISHED');
    return out;
  } catch (e) {
    await client.endRun(run.runId, endStatus(e)).catch(() => undefined);
    throw e;
  }
}

/** One candidate as a nested run of `parent`; its metrics come from `score`. An interruption is rethrown, other failures are recorded and returned as null. */
export async function childRun(
  client: TrackingClient,
  parent: RunInfo,
  o: { runName: string; params: Record<string, string | number | boolean>; tags?: Record<string, string> },
  score: () => Promise<Record<string, number>>,
  report?: (line: string) => void,
): Promise<Record<string, number> | null> {
  const run = await client.startRun({
    experimentId: parent.experimentId,
    parentRunId: parent.runId,
    runName: o.runName,
    tags: o.tags,
  });
  try {
    await client.logParams(run.runId, o.params);
    const metrics = await score();
    await client.logMetrics(run.runId, metrics);
    await client.endRun(run.runId, 'FINISHED');
    return metrics;
  } catch (e) {
    await client.endRun(run.runId, endStatus(e)).catch(() => undefined);
    if (isAppError(e, 'INTERRUPTED')) throw e;
    report?.(`${o.runName}: failed: ${(e as Error).message}`);
    await client.setTags(run.runId, { 'carprice.error': (e as Error).message.slice(0, 1000) }).catch(() => undefined);
    return null;
  }
}

/** A small Markdown/CSV table writer for comparison artifacts. */
export function markdownTable(headers: string[], rows: (string | number)[][]): string {
  return (
    [
      `| ${headers.join(' | ')} |`,
      `|${headers.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n') + '\n'
  );
}

export function csvTable(headers: string[], rows: (string | number)[][]): string {
  const cell = (x: string | number) =>
    typeof x === 'number' ? String(x) : /[",\n]/.test(x) ? `"${x.replace(/"/g, '""')}"` : x;
  return [headers, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

/** Upload `text` as the run artifact `name` (through a temporary file). */
export async function logTextArtifact(
  client: TrackingClient,
  runId: string,
  name: string,
  text: string,
): Promise<void> {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'carprice-artifact-'));
  try {
    await writeFile(join(dir, name), text);
    await client.logArtifact(runId, join(dir, name));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
