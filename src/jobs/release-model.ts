/**
 * The release step after the pipeline (what `carprice start` and its successors run, and
 * what the seed's CI did): test the Staging version and promote it when it passes, so a
 * fresh clone ends with a Production model. A version already in Production is left
 * alone; a version that fails stays in Staging with its report, and the reason is returned
 * (the pipeline itself succeeded; CI gates on `carprice model test` separately).
 */
import { isAppError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import { TrackingClient } from '../tracking/client.js';
import type { ModelVersion } from '../tracking/entities.js';
import { currentUser, modelTest, TEST_TAGS } from './model-test.js';
import { promote } from './promotion.js';

export interface ReleaseModelOptions {
  params: Params;
  cwd: string;
  env: Env;
  /** Default: model_registration.model_name. */
  name?: string;
  client?: TrackingClient;
  logger?: Logger;
  signal?: AbortSignal;
  clock?: Clock;
  report?: (line: string) => void;
}

export interface ReleaseResult {
  version: string | null;
  tested: boolean;
  passed: boolean;
  promoted: boolean;
  reason: string;
  /** Markdown summary of the test, when one ran. */
  summary: string | null;
}

/** Test the Staging version and promote it when it passes. */
export async function releaseModel(o: ReleaseModelOptions): Promise<ReleaseResult> {
  const name = o.name ?? o.params.model_registration.model_name;
  const client =
    o.client ??
    TrackingClient.open({
      env: o.env,
      paramsUri: o.params.mlflow.tracking_uri,
      cwd: o.cwd,
      logger: o.logger,
      clock: o.clock,
    });
  try {
    let staging: ModelVersion | undefined;
    try {
      staging = (await client.store.getLatestVersions(name, ['Staging']))[0];
    } catch (e) {
      if (!isAppError(e, 'RESOURCE_DOES_NOT_EXIST')) throw e;
    }
    if (!staging)
      return {
        version: null,
        tested: false,
        passed: false,
        promoted: false,
        reason: `no ${name} version in Staging: nothing to release`,
        summary: null,
      };
    // already tested against the Production version still in place: reuse the verdict
    const tag = (k: string) => staging.tags.find((x) => x.key === k)?.value;
    const prod = (await client.store.getLatestVersions(name, ['Production']))[0]?.version ?? 'none';
    if (tag(TEST_TAGS.status) === 'failed' && tag(TEST_TAGS.champion) === prod)
      return {
        version: staging.version,
        tested: false,
        passed: false,
        promoted: false,
        reason: `v${staging.version} stays in Staging: ${tag(TEST_TAGS.failures) ?? 'it failed its model test'}`,
        summary: null,
      };
    const t = await modelTest({
      params: o.params,
      cwd: o.cwd,
      env: o.env,
      name,
      version: staging.version,
      client,
      logger: o.logger,
      signal: o.signal,
      clock: o.clock,
      report: o.report,
    });
    if (!t.report.passed)
      return {
        version: staging.version,
        tested: true,
        passed: false,
        promoted: false,
        reason: `v${staging.version} stays in Staging: ${t.report.failures.join('; ')}`,
        summary: t.summary,
      };
    const e = await promote({
      client,
      name,
      version: staging.version,
      user: currentUser(o.env),
      reason: 'released by carprice start: passed its model test',
      clock: o.clock,
      report: o.report,
    });
    return {
      version: staging.version,
      tested: true,
      passed: true,
      promoted: true,
      reason: `v${staging.version} -> Production (alias champion)${e.previous.length ? `; v${e.previous.join(', v')} archived` : ''}`,
      summary: t.summary,
    };
  } finally {
    if (!o.client) await client.close();
  }
}
