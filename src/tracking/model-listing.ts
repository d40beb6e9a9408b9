/**
 * A registered model's versions as carprice lists them (`carprice model list`, the
 * dashboard's models page): each version's stage and aliases, its test status, the run's
 * test metrics and who promoted it, read from the registry and the governance tags
 * jobs/promotion.ts writes; and the promotion history (`carprice model history`). jobs/
 * builds them and dashboard/ sends them, so the shapes live here, in the lowest layer both
 * may import. Types only: the browser code imports them too.
 */
import type { Stage } from './entities.js';

/** One version row. */
export interface VersionRow {
  version: string;
  stage: Stage;
  aliases: string[];
  runId: string | null;
  created: number;
  /** The latest `carprice model test` verdict (tag carprice.test.status), null when untested. */
  test: string | null;
  testedAt: string | null;
  /** The source run's test_* metrics, without the prefix. */
  metrics: Record<string, number>;
  promotedBy: string | null;
  promotedAt: string | null;
}

/** A registered model's versions, and whether its Production stage and champion alias agree. */
export interface ModelListing {
  name: string;
  versions: VersionRow[];
  /** Production and champion name the same single version (or neither exists). */
  consistent: boolean;
  /** Why they disagree and how to fix it; null when consistent. */
  note: string | null;
}

/** One promotion or rollback event, as `carprice model history` and the dashboard list it. */
export interface HistoryEntry {
  seq: number;
  action: 'promote' | 'rollback';
  /** The version promoted, or the version demoted by a rollback. */
  version: string;
  /** promote: the Production versions archived; rollback: the versions back in Production. */
  previous: string[];
  by: string;
  at: string;
  reason: string;
  /** The promotion a rollback undid. */
  undoes?: number;
}
