/**
 * Promotion and rollback in the model registry, kept true in both of MLflow's vocabularies
 * at once: the Production stage and the `champion` alias always name the same version.
 * Works over any TrackingStore (the embedded SQLite store, `carprice tracking serve`, any
 * MLflow server), because it only uses MLflow's registry calls.
 *
 *  - promote: only a version whose latest `model test` passed, against the Production
 *    version that is still in place; the previous Production version(s) go to Archived,
 *    this one to Production with alias `champion` (alias `challenger` is dropped when it
 *    named this version). Who, when and why become version tags.
 *  - rollback: undoes the latest promotion not yet undone: every version it touched gets
 *    back its stage and its governance tags, and `champion`/`challenger` point where they
 *    pointed before. Who, when and why of the rollback are tagged on the demoted version.
 *  - history: MLflow keeps none, so every promotion and rollback is a registered-model tag
 *    `carprice.history.NNNNNN` holding the event as JSON, including the registry state
 *    before it (the snapshot a rollback restores).
 */
import { AppError, isAppError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { ModelVersion, Stage } from '../tracking/entities.js';
import type { TrackingClient } from '../tracking/client.js';
import { equalsClause } from '../tracking/search-filter.js';
import { TEST_TAGS } from './model-test.js';
import { collectPages } from '../tracking/all-pages.js';
import type { HistoryEntry, ModelListing, VersionRow } from '../tracking/model-listing.js';

export const CHAMPION = 'champion';
export const CHALLENGER = 'challenger';
const ALIASES = [CHAMPION, CHALLENGER] as const;
const HISTORY_PREFIX = 'carprice.history.';

export const PROMOTION_TAGS = {
  promotedBy: 'carprice.promoted_by',
  promotedAt: 'carprice.promoted_at',
  promotionReason: 'carprice.promotion_reason',
  archivedBy: 'carprice.archived_by',
  archivedAt: 'carprice.archived_at',
  archiveReason: 'carprice.archive_reason',
  rolledBackBy: 'carprice.rolled_back_by',
  rolledBackAt: 'carprice.rolled_back_at',
  rollbackReason: 'carprice.rollback_reason',
} as const;
const GOVERNED = Object.values(PROMOTION_TAGS);

/** A version's stage and governance tags (null = tag absent). */
export interface VersionState {
  version: string;
  stage: Stage;
  tags: Record<string, string | null>;
}

/** The part of the registry a promotion touches. */
export interface RegistrySnapshot {
  versions: VersionState[];
  /** champion / challenger -> version (null = alias absent). */
  aliases: Record<string, string | null>;
}

/** A history entry as stored: with the registry state before it, which a rollback restores. */
export interface HistoryEvent extends HistoryEntry {
  before: RegistrySnapshot;
}

export interface GovernanceOptions {
  client: TrackingClient;
  name: string;
  /** Who acts (recorded). */
  user: string;
  reason?: string;
  clock?: Clock;
  report?: (line: string) => void;
}

export interface PromoteOptions extends GovernanceOptions {
  /** Version to promote (default: the latest Staging version). */
  version?: string;
}

/** Every version of a registered model, lowest number first, with its aliases. */
export async function modelVersions(client: TrackingClient, name: string): Promise<ModelVersion[]> {
  const model = await client.store.getRegisteredModel(name);
  const { clause } = equalsClause('name', name);
  const out = (
    await collectPages((pageToken) => client.store.searchModelVersions({ filter: clause, maxResults: 1000, pageToken }))
  ).filter((v) => v.name === name);
  // MLflow's search leaves aliases out; the registered model has them all
  for (const v of out) v.aliases = model.aliases.filter((a) => a.version === v.version).map((a) => a.alias);
  return out.sort((a, b) => Number(a.version) - Number(b.version));
}

async function aliasMap(client: TrackingClient, name: string): Promise<Record<string, string | null>> {
  const model = await client.store.getRegisteredModel(name);
  return Object.fromEntries(ALIASES.map((a) => [a, model.aliases.find((x) => x.alias === a)?.version ?? null]));
}

function stateOf(v: ModelVersion): VersionState {
  return {
    version: v.version,
    stage: v.currentStage,
    tags: Object.fromEntries(GOVERNED.map((k) => [k, v.tags.find((t) => t.key === k)?.value ?? null])),
  };
}

async function snapshot(client: TrackingClient, name: string, versions: Iterable<string>): Promise<RegistrySnapshot> {
  const aliases = await aliasMap(client, name);
  const wanted = new Set([...versions, ...Object.values(aliases).filter((v): v is string => v !== null)]);
  const states: VersionState[] = [];
  for (const v of [...wanted].sort((a, b) => Number(a) - Number(b)))
    states.push(stateOf(await client.store.getModelVersion(name, v)));
  return { versions: states, aliases };
}

/** The promotion history of a model, oldest first. */
export async function promotionHistory(client: TrackingClient, name: string): Promise<HistoryEvent[]> {
  const model = await client.store.getRegisteredModel(name);
  return model.tags
    .filter((t) => t.key.startsWith(HISTORY_PREFIX))
    .map((t) => {
      try {
        return JSON.parse(t.value) as HistoryEvent;
      } catch {
        throw new AppError(
          'FORMAT_UNKNOWN',
          `registered model '${name}' tag ${t.key} is not a history event (not JSON); remove it with the MLflow UI or API`,
        );
      }
    })
    .sort((a, b) => a.seq - b.seq);
}

async function recordEvent(client: TrackingClient, name: string, e: Omit<HistoryEvent, 'seq'>): Promise<HistoryEvent> {
  const history = await promotionHistory(client, name);
  const event: HistoryEvent = { seq: (history.at(-1)?.seq ?? 0) + 1, ...e };
  const text = JSON.stringify(event);
  if (text.length > 5000)
    throw new AppError(
      'INVALID_PARAMETER_VALUE',
      `the ${e.action} record is ${text.length} characters, over MLflow's 5000 for a tag value; give a shorter --reason`,
    );
  await client.store.setRegisteredModelTag(name, `${HISTORY_PREFIX}${String(event.seq).padStart(6, '0')}`, text);
  return event;
}

async function forgetEvent(client: TrackingClient, name: string, seq: number): Promise<void> {
  await client.store
    .deleteRegisteredModelTag(name, `${HISTORY_PREFIX}${String(seq).padStart(6, '0')}`)
    .catch(() => undefined);
}

/** Put the touched part of the registry back as a snapshot recorded it. */
async function restore(client: TrackingClient, name: string, s: RegistrySnapshot): Promise<void> {
  for (const want of s.versions) {
    const now = await client.store.getModelVersion(name, want.version);
    if (now.currentStage !== want.stage) await client.transitionStage(name, want.version, want.stage, false);
    for (const [k, v] of Object.entries(want.tags)) {
      const has = now.tags.find((t) => t.key === k)?.value ?? null;
      if (v === null && has !== null) await client.store.deleteModelVersionTag(name, want.version, k);
      else if (v !== null && v !== has) await client.store.setModelVersionTag(name, want.version, k, v);
    }
  }
  const aliases = await aliasMap(client, name);
  for (const [alias, v] of Object.entries(s.aliases)) {
    if (aliases[alias] === v) continue;
    if (v === null) await client.deleteAlias(name, alias);
    else await client.setAlias(name, alias, v);
  }
}

const tagOf = (v: ModelVersion, k: string) => v.tags.find((t) => t.key === k)?.value;

/**
 * Promote a tested version to Production (alias champion); see the module comment.
 * Refused (MODEL_NOT_READY, exit 5) unless its latest model test passed against the
 * Production version still in place.
 */
export async function promote(o: PromoteOptions): Promise<HistoryEvent> {
  const { client, name } = o;
  const clock = o.clock ?? systemClock;
  let target: ModelVersion;
  if (o.version !== undefined) target = await client.store.getModelVersion(name, o.version);
  else {
    const staging = await client.store.getLatestVersions(name, ['Staging']);
    if (!staging.length)
      throw new AppError(
        'RESOURCE_DOES_NOT_EXIST',
        `registered model '${name}' has no Staging version; name one with --version (carprice model list shows them)`,
      );
    target = staging[0];
  }
  const all = await modelVersions(client, name);
  const production = all.filter((v) => v.currentStage === 'Production').map((v) => v.version);
  const aliases = await aliasMap(client, name);
  if (production.length === 1 && production[0] === target.version && aliases[CHAMPION] === target.version)
    throw new AppError(
      'INVALID_PARAMETER_VALUE',
      `${name} v${target.version} is already the Production version and the champion; nothing to promote`,
    );
  const status = tagOf(target, TEST_TAGS.status);
  if (status !== 'passed')
    throw new AppError(
      'MODEL_NOT_READY',
      status === 'failed'
        ? `${name} v${target.version} failed its latest model test (${tagOf(target, TEST_TAGS.failures) ?? 'see the report'}); fix the model, retest, then promote`
        : `${name} v${target.version} has no model test; run \`carprice model test --version ${target.version}\` first`,
    );
  const testedAgainst = tagOf(target, TEST_TAGS.champion) ?? 'none';
  const champNow = production.filter((v) => v !== target.version);
  const expected = champNow.length ? champNow[champNow.length - 1] : 'none';
  if (testedAgainst !== expected)
    throw new AppError(
      'MODEL_NOT_READY',
      `${name} v${target.version} was tested against ${testedAgainst === 'none' ? 'no Production version' : `Production v${testedAgainst}`}, but Production is now ${expected === 'none' ? 'empty' : `v${expected}`}; run \`carprice model test --version ${target.version}\` again`,
    );
  const at = new Date(clock.now()).toISOString();
  const reason = (o.reason ?? `passed model test of ${tagOf(target, TEST_TAGS.at) ?? '?'}`).slice(0, 500);
  const before = await snapshot(client, name, [target.version, ...production]);
  const event = await recordEvent(client, name, {
    action: 'promote',
    version: target.version,
    previous: champNow,
    by: o.user,
    at,
    reason,
    before,
  });
  try {
    for (const v of champNow) {
      await client.transitionStage(name, v, 'Archived', false);
      await client.store.setModelVersionTag(name, v, PROMOTION_TAGS.archivedBy, o.user);
      await client.store.setModelVersionTag(name, v, PROMOTION_TAGS.archivedAt, at);
      await client.store.setModelVersionTag(
        name,
        v,
        PROMOTION_TAGS.archiveReason,
        `replaced by v${target.version}: ${reason}`.slice(0, 600),
      );
    }
    if (target.currentStage !== 'Production') await client.transitionStage(name, target.version, 'Production', false);
    await client.store.setModelVersionTag(name, target.version, PROMOTION_TAGS.promotedBy, o.user);
    await client.store.setModelVersionTag(name, target.version, PROMOTION_TAGS.promotedAt, at);
    await client.store.setModelVersionTag(name, target.version, PROMOTION_TAGS.promotionReason, reason);
    await client.setAlias(name, CHAMPION, target.version);
    if (aliases[CHALLENGER] === target.version) await client.deleteAlias(name, CHALLENGER);
  } catch (e) {
    // leave the registry as it was, and no record of a promotion that did not happen
    await restore(client, name, before).catch(() => undefined);
    await forgetEvent(client, name, event.seq);
    throw e;
  }
  o.report?.(
    `promoted ${name} v${target.version} to Production (alias ${CHAMPION})${champNow.length ? `; archived v${champNow.join(', v')}` : ''}`,
  );
  return event;
}

/** Undo the latest promotion not yet undone; see the module comment. */
export async function rollback(o: GovernanceOptions): Promise<HistoryEvent> {
  const { client, name } = o;
  const clock = o.clock ?? systemClock;
  const history = await promotionHistory(client, name);
  const undone = new Set(history.filter((e) => e.action === 'rollback' && e.undoes !== undefined).map((e) => e.undoes));
  const last = [...history].reverse().find((e) => e.action === 'promote' && !undone.has(e.seq));
  if (!last)
    throw new AppError(
      'RESOURCE_DOES_NOT_EXIST',
      `registered model '${name}' has no promotion to roll back (carprice model history shows what happened)`,
    );
  const at = new Date(clock.now()).toISOString();
  const reason = (o.reason ?? `rollback of the promotion of v${last.version} (${last.at})`).slice(0, 500);
  const restored = last.before.versions.filter((v) => v.stage === 'Production').map((v) => v.version);
  const before = await snapshot(
    client,
    name,
    last.before.versions.map((v) => v.version),
  );
  const event = await recordEvent(client, name, {
    action: 'rollback',
    version: last.version,
    previous: restored,
    by: o.user,
    at,
    reason,
    undoes: last.seq,
    before,
  });
  try {
    await restore(client, name, last.before);
    await client.store.setModelVersionTag(name, last.version, PROMOTION_TAGS.rolledBackBy, o.user);
    await client.store.setModelVersionTag(name, last.version, PROMOTION_TAGS.rolledBackAt, at);
    await client.store.setModelVersionTag(name, last.version, PROMOTION_TAGS.rollbackReason, reason);
  } catch (e) {
    await restore(client, name, before).catch(() => undefined);
    await forgetEvent(client, name, event.seq);
    throw e;
  }
  o.report?.(
    `rolled back ${name} v${last.version}: ${restored.length ? `Production and ${CHAMPION} are v${restored.join(', v')} again` : `no Production version now (v${last.version} was the first)`}`,
  );
  return event;
}

/** Versions with stages, aliases, test status and the run's test metrics. */
export async function listModelVersions(client: TrackingClient, name: string): Promise<ModelListing> {
  const versions = await modelVersions(client, name);
  const rows: VersionRow[] = [];
  for (const v of versions) {
    let metrics: Record<string, number> = {};
    if (v.runId) {
      try {
        const run = await client.getRun(v.runId);
        metrics = Object.fromEntries(
          run.data.metrics.filter((m) => m.key.startsWith('test_')).map((m) => [m.key.slice(5), m.value]),
        );
      } catch (e) {
        if (!isAppError(e, 'RESOURCE_DOES_NOT_EXIST')) throw e;
      }
    }
    rows.push({
      version: v.version,
      stage: v.currentStage,
      aliases: v.aliases,
      runId: v.runId ?? null,
      created: v.creationTimestamp,
      test: tagOf(v, TEST_TAGS.status) ?? null,
      testedAt: tagOf(v, TEST_TAGS.at) ?? null,
      metrics,
      promotedBy: tagOf(v, PROMOTION_TAGS.promotedBy) ?? null,
      promotedAt: tagOf(v, PROMOTION_TAGS.promotedAt) ?? null,
    });
  }
  const prod = rows.filter((r) => r.stage === 'Production').map((r) => r.version);
  const champ = rows.find((r) => r.aliases.includes(CHAMPION))?.version ?? null;
  const consistent = (prod.length === 0 && champ === null) || (prod.length === 1 && prod[0] === champ);
  const note = consistent
    ? null
    : `Production (${prod.length ? `v${prod.join(', v')}` : 'none'}) and alias ${CHAMPION} (${champ ? `v${champ}` : 'none'}) disagree: someone changed one by hand; \`carprice model promote --version V\` sets both`;
  return { name, versions: rows, consistent, note };
}
