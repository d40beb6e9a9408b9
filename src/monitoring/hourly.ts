/**
 * The prediction log's per-hour aggregates (table `hourly`, in the log's own SQLite file):
 * what the drift and shadow reports need of each UTC hour's rows, kept by the code that
 * writes the rows (log-store.ts `recordInserter`) in the same transaction, so the two never
 * disagree. A report over a window then costs one small read per whole hour plus the rows of
 * the partial hours at its two ends, instead of every row of the window.
 *
 * An hour's aggregate is exact, not a sketch: the window's report from aggregates equals the
 * report read row by row (drift-report.test.ts, hourly.test.ts):
 * - `inputs`: for each input field of the champion rows, each value's token (its JSON) with
 *   its count and the id of the first row that had it (the drift report names the first
 *   unseen category on a tie, and caps the unseen values it tracks in order of appearance);
 *   bins and categories are applied when reading, so any model's reference can be used;
 * - `prices`: the champion rows' prices by model version (the prediction distribution);
 * - `pairs`: for each request row priced by both the champion and the shadow challenger in
 *   this hour, the champion row's id and (challenger - champion) / champion, the pairs where
 *   one side has no price (`failed`), the model names of each role.
 *
 * An hour is `dirty` (its rows are read instead) when its rows cannot be summed on their
 * own: a request id and row logged twice for one role, a champion and its challenger in two
 * different hours (pairing is by request id across the window), or rows deleted from it by
 * retention. Dirty hours are rare; they cost their rows, never a wrong number.
 *
 * Each write adds a segment per hour it touched; the writer merges an hour's segments into
 * one once it writes to a later hour (`compactHours`), and a reader merges any it finds.
 * A log written before the table existed gets its aggregates built from its rows when it is
 * first opened for writing (`rebuildHourly`, the schema migration to version 2).
 */
import type Database from 'better-sqlite3';

type Db = Database.Database;

export const HOUR_MS = 3_600_000;

/** The UTC hour (since the epoch) of a Unix time in ms. */
export const hourOf = (ts: number): number => Math.floor(ts / HOUR_MS);

export const HOURLY_SCHEMA = `
CREATE TABLE IF NOT EXISTS hourly (
  id INTEGER PRIMARY KEY,
  hour INTEGER NOT NULL,
  dirty INTEGER NOT NULL DEFAULT 0,
  champion INTEGER NOT NULL DEFAULT 0,
  challenger INTEGER NOT NULL DEFAULT 0,
  drift TEXT,
  shadow TEXT
);
CREATE INDEX IF NOT EXISTS hourly_hour ON hourly(hour);
`;

/** One value token of a field: [token, rows, id of the first row]. */
export type TokenCount = [string, number, number];

/** The drift part of an hour as stored: per field its tokens; per model version its prices. */
export interface DriftCounts {
  inputs: [string, TokenCount[]][];
  prices: [string | null, number[]][];
}

/** The shadow part of an hour as stored. */
export interface PairCounts {
  /** Champion row id of each pair both priced, and (challenger - champion) / champion. */
  ids: number[];
  rel: number[];
  /** Pairs where one side has no price. */
  failed: number;
  championNames: string[];
  challengerNames: string[];
}

/** An hour (or the rows of a window outside whole hours) as the reports read it. */
export interface HourCounts {
  champion: number;
  challenger: number;
  drift: DriftCounts;
  pairs: PairCounts;
}

/** The JSON token of an input value: what the value reads back as from the stored inputs JSON. */
export function tokenOf(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return 'null';
}

/** The value a token stands for. */
export function tokenValue(t: string): unknown {
  if (t.charCodeAt(0) === 34) return JSON.parse(t);
  if (t === 'null') return null;
  if (t === 'true') return true;
  if (t === 'false') return false;
  return Number(t);
}

/** What the aggregates need of a logged row. */
export interface AggregatedRow {
  role: string;
  inputs: Record<string, unknown>;
  price: number | null;
  modelName: string;
  modelVersion: string | null;
}

/** An earlier row of the same request id and row. */
export interface KeyRow {
  id: number;
  ts: number;
  role: string;
  price: number | null;
}

const nameOf = (r: { modelName: string; modelVersion: string | null }) => `${r.modelName} v${r.modelVersion ?? '-'}`;

/** An hour's aggregate being built (writer, merge, and the rows a reader reads). */
export class HourBuilder {
  dirty = false;
  champion = 0;
  challenger = 0;
  readonly inputs = new Map<string, Map<string, [number, number]>>();
  readonly prices = new Map<string | null, number[]>();
  readonly ids: number[] = [];
  readonly rel: number[] = [];
  failed = 0;
  readonly championNames = new Set<string>();
  readonly challengerNames = new Set<string>();

  /** A row's own counts (not its pairing). */
  addRow(id: number, r: AggregatedRow): void {
    if (r.role !== 'champion') {
      this.challenger++;
      this.challengerNames.add(nameOf(r));
      return;
    }
    this.champion++;
    this.championNames.add(nameOf(r));
    for (const [field, v] of Object.entries(r.inputs)) {
      if (v === undefined) continue;
      this.addToken(field, tokenOf(v), 1, id);
    }
    if (r.price !== null) {
      let l = this.prices.get(r.modelVersion);
      if (!l) this.prices.set(r.modelVersion, (l = []));
      l.push(r.price);
    }
  }

  private addToken(field: string, token: string, n: number, first: number): void {
    let t = this.inputs.get(field);
    if (!t) this.inputs.set(field, (t = new Map<string, [number, number]>()));
    const e = t.get(token);
    if (!e) t.set(token, [n, first]);
    else {
      e[0] += n;
      if (first < e[1]) e[1] = first;
    }
  }

  /** A pair of this hour: the champion's row and the challenger's. */
  addPair(c: { id: number; price: number | null }, s: { price: number | null }): void {
    if (c.price === null || s.price === null) this.failed++;
    else {
      this.ids.push(c.id);
      this.rel.push((s.price - c.price) / c.price);
    }
  }

  /** Add a stored aggregate (merging segments). */
  addCounts(h: HourCounts): void {
    this.champion += h.champion;
    this.challenger += h.challenger;
    for (const [field, tokens] of h.drift.inputs) for (const [t, n, first] of tokens) this.addToken(field, t, n, first);
    for (const [v, ps] of h.drift.prices) {
      let l = this.prices.get(v);
      if (!l) this.prices.set(v, (l = []));
      for (const p of ps) l.push(p);
    }
    for (let i = 0; i < h.pairs.ids.length; i++) {
      this.ids.push(h.pairs.ids[i]);
      this.rel.push(h.pairs.rel[i]);
    }
    this.failed += h.pairs.failed;
    for (const n of h.pairs.championNames) this.championNames.add(n);
    for (const n of h.pairs.challengerNames) this.challengerNames.add(n);
  }

  counts(): HourCounts {
    return {
      champion: this.champion,
      challenger: this.challenger,
      drift: {
        inputs: [...this.inputs].map(([f, t]) => [f, [...t].map(([tok, [n, first]]): TokenCount => [tok, n, first])]),
        prices: [...this.prices],
      },
      pairs: {
        ids: this.ids,
        rel: this.rel,
        failed: this.failed,
        championNames: [...this.championNames],
        challengerNames: [...this.challengerNames],
      },
    };
  }
}

/**
 * Pairing of one row against the earlier rows of its request id and row: a pair of this
 * hour when exactly one row of the other role is there, in the same hour; the hours
 * involved are dirty when the key repeats a role or spans hours. Returns the hours to mark.
 */
function pairRow(
  b: HourBuilder,
  hour: number,
  id: number,
  r: AggregatedRow,
  others: readonly KeyRow[],
): number[] | null {
  if (others.length === 0) return null;
  const o = others[0];
  if (others.length > 1 || o.role === r.role || hourOf(o.ts) !== hour)
    return [hour, ...others.map((x) => hourOf(x.ts))];
  if (r.role === 'champion') b.addPair({ id, price: r.price }, o);
  else b.addPair(o, { price: r.price });
  return null;
}

function storedCounts(row: {
  champion: number;
  challenger: number;
  drift: string | null;
  shadow: string | null;
}): HourCounts {
  return {
    champion: row.champion,
    challenger: row.challenger,
    drift: row.drift ? (JSON.parse(row.drift) as DriftCounts) : { inputs: [], prices: [] },
    pairs: row.shadow
      ? (JSON.parse(row.shadow) as PairCounts)
      : { ids: [], rel: [], failed: 0, championNames: [], challengerNames: [] },
  };
}

/** Keeps `hourly` in step with the rows a transaction writes (call inside it). */
export class HourlyMaintainer {
  private readonly sameKey: Database.Statement;
  private readonly sameKeyBefore: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly pending = new Map<number, HourBuilder>();
  private newest: number;

  constructor(private readonly db: Db) {
    this.sameKey = db.prepare('SELECT id, ts, role, price FROM predictions WHERE request_id = ? AND row = ?');
    this.sameKeyBefore = db.prepare(
      'SELECT id, ts, role, price FROM predictions WHERE request_id = ? AND row = ? AND id < ?',
    );
    this.insert = db.prepare(
      'INSERT INTO hourly (hour, dirty, champion, challenger, drift, shadow) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const max = db.prepare('SELECT MAX(hour) AS h FROM hourly').get() as { h: number | null };
    this.newest = max.h ?? -Infinity;
  }

  private builder(hour: number): HourBuilder {
    let b = this.pending.get(hour);
    if (!b) this.pending.set(hour, (b = new HourBuilder()));
    return b;
  }

  /** The earlier rows of a request id and row (call before inserting the row). */
  earlier(requestId: string, row: number): KeyRow[] {
    return this.sameKey.all(requestId, row) as KeyRow[];
  }

  /** The rows of a request id and row stored before row `id` (rebuilding). */
  earlierThan(requestId: string, row: number, id: number): KeyRow[] {
    return this.sameKeyBefore.all(requestId, row, id) as KeyRow[];
  }

  /** Count row `id` (stored at `ts`) given the earlier rows of its key. */
  add(id: number, ts: number, r: AggregatedRow, others: readonly KeyRow[]): void {
    const hour = hourOf(ts);
    const b = this.builder(hour);
    b.addRow(id, r);
    const dirty = pairRow(b, hour, id, r, others);
    if (dirty) for (const h of dirty) this.builder(h).dirty = true;
  }

  /** Store what was added as one segment per hour; merge older hours' segments when a later hour starts. */
  flush(o: { compact?: boolean } = {}): void {
    let newest = this.newest;
    for (const [hour, b] of this.pending) {
      writeSegment(this.insert, hour, b);
      if (hour > newest) newest = hour;
    }
    this.pending.clear();
    if (newest > this.newest || o.compact) {
      compactHours(this.db, o.compact ? Infinity : newest);
      this.newest = newest;
    }
  }
}

function writeSegment(insert: Database.Statement, hour: number, b: HourBuilder): void {
  if (b.dirty) {
    insert.run(hour, 1, 0, 0, null, null);
    return;
  }
  const c = b.counts();
  insert.run(
    hour,
    0,
    c.champion,
    c.challenger,
    c.drift.inputs.length || c.drift.prices.length ? JSON.stringify(c.drift) : null,
    c.pairs.ids.length || c.pairs.failed || c.pairs.championNames.length || c.pairs.challengerNames.length
      ? JSON.stringify(c.pairs)
      : null,
  );
}

interface SegmentRow {
  hour: number;
  dirty: number;
  champion: number;
  challenger: number;
  drift: string | null;
  shadow: string | null;
}

/** Merge the segments of every hour before `before` that has several into one. */
export function compactHours(db: Db, before: number): void {
  const hours = db
    .prepare('SELECT hour FROM hourly WHERE hour < ? GROUP BY hour HAVING COUNT(*) > 1')
    .raw()
    .all(Number.isFinite(before) ? before : Number.MAX_SAFE_INTEGER) as [number][];
  if (hours.length === 0) return;
  const read = db.prepare('SELECT hour, dirty, champion, challenger, drift, shadow FROM hourly WHERE hour = ?');
  const del = db.prepare('DELETE FROM hourly WHERE hour = ?');
  const insert = db.prepare(
    'INSERT INTO hourly (hour, dirty, champion, challenger, drift, shadow) VALUES (?, ?, ?, ?, ?, ?)',
  );
  for (const [hour] of hours) {
    const b = new HourBuilder();
    for (const s of read.all(hour) as SegmentRow[]) {
      if (s.dirty) b.dirty = true;
      else if (!b.dirty) b.addCounts(storedCounts(s));
    }
    del.run(hour);
    writeSegment(insert, hour, b);
  }
}

/**
 * After retention deleted rows of `hours`: an hour with no row left loses its aggregate; one
 * with rows left is dirty (its remaining rows are read). Call in the deleting transaction.
 */
export function trimHours(db: Db, hours: Iterable<number>): void {
  const any = db.prepare('SELECT 1 FROM predictions WHERE ts >= ? AND ts < ? LIMIT 1');
  const del = db.prepare('DELETE FROM hourly WHERE hour = ?');
  const dirty = db.prepare('INSERT INTO hourly (hour, dirty) VALUES (?, 1)');
  for (const h of hours) {
    del.run(h);
    if (any.get(h * HOUR_MS, (h + 1) * HOUR_MS)) dirty.run(h);
  }
}

/** Build the aggregates of every stored row anew (the migration of a log written before them). */
export function rebuildHourly(db: Db): void {
  db.prepare('DELETE FROM hourly').run();
  const m = new HourlyMaintainer(db);
  const page = db.prepare(
    'SELECT id, ts, request_id, row, role, model_name, model_version, price, inputs FROM predictions WHERE id > ? ORDER BY id LIMIT 5000',
  );
  let last = -1;
  for (;;) {
    const rows = page.all(last) as {
      id: number;
      ts: number;
      request_id: string;
      row: number;
      role: string;
      model_name: string;
      model_version: string | null;
      price: number | null;
      inputs: string;
    }[];
    if (rows.length === 0) break;
    for (const r of rows)
      m.add(
        r.id,
        r.ts,
        {
          role: r.role,
          inputs: JSON.parse(r.inputs) as Record<string, unknown>,
          price: r.price,
          modelName: r.model_name,
          modelVersion: r.model_version,
        },
        m.earlierThan(r.request_id, r.row, r.id),
      );
    last = rows[rows.length - 1].id;
    m.flush();
  }
  m.flush({ compact: true });
}

/** Whether the log has the hourly aggregates (logs written before them are read row by row). */
export function hasHourly(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='hourly'").get() !== undefined;
}

/** A window split into its whole clean hours (aggregates) and the rows to read (the rest). */
export interface WindowSplit {
  /** The aggregates (one or more segments each) of the window's whole, clean hours, oldest first. */
  hours: HourCounts[];
  /** SQL condition (on `ts`) of the window's other rows, with its arguments; null when there are none. */
  rest: { cond: string; args: number[] } | null;
}

/**
 * Split the window [since, until) (either end open when undefined): the aggregates of the
 * whole hours inside it that are clean, and the time ranges whose rows must be read: the
 * partial hours at its ends and the dirty hours. A log without aggregates is all rest.
 */
export function splitWindow(
  db: Db,
  since: number | undefined,
  until: number | undefined,
  o: { drift?: boolean; shadow?: boolean } = {},
): WindowSplit {
  const ranges: [number | undefined, number | undefined][] = [];
  const hours: HourCounts[] = [];
  let hs = 0;
  let he = 0;
  if (hasHourly(db)) {
    const span = db.prepare('SELECT MIN(hour) AS lo, MAX(hour) AS hi FROM hourly').get() as {
      lo: number | null;
      hi: number | null;
    };
    if (span.lo !== null && span.hi !== null) {
      hs = since === undefined ? span.lo : Math.ceil(since / HOUR_MS);
      he = until === undefined ? span.hi + 1 : Math.floor(until / HOUR_MS);
    }
  }
  if (hs >= he) ranges.push([since, until]);
  else {
    if (since !== undefined && since < hs * HOUR_MS) ranges.push([since, hs * HOUR_MS]);
    const cols = `hour, dirty, champion, challenger, ${o.drift ? 'drift' : 'NULL AS drift'}, ${o.shadow ? 'shadow' : 'NULL AS shadow'}`;
    const segs = db
      .prepare(`SELECT ${cols} FROM hourly WHERE hour >= ? AND hour < ? ORDER BY hour, id`)
      .all(hs, he) as SegmentRow[];
    for (let i = 0; i < segs.length;) {
      const hour = segs[i].hour;
      let j = i;
      while (j < segs.length && segs[j].hour === hour) j++;
      if (segs.slice(i, j).some((s) => s.dirty)) ranges.push([hour * HOUR_MS, (hour + 1) * HOUR_MS]);
      // an hour's segments are summed by the reports as they come (no merge needed)
      else for (let k = i; k < j; k++) hours.push(storedCounts(segs[k]));
      i = j;
    }
    if (until === undefined) ranges.push([he * HOUR_MS, undefined]);
    else if (he * HOUR_MS < until) ranges.push([he * HOUR_MS, until]);
  }
  // adjacent ranges read as one
  const merged: typeof ranges = [];
  for (const r of ranges) {
    const prev = merged[merged.length - 1];
    if (prev && prev[1] !== undefined && prev[1] === r[0]) prev[1] = r[1];
    else merged.push([r[0], r[1]]);
  }
  if (merged.length === 0) return { hours, rest: null };
  const conds: string[] = [];
  const args: number[] = [];
  for (const [lo, hi] of merged) {
    const c: string[] = [];
    if (lo !== undefined) {
      c.push('ts >= ?');
      args.push(lo);
    }
    if (hi !== undefined) {
      c.push('ts < ?');
      args.push(hi);
    }
    conds.push(c.length ? `(${c.join(' AND ')})` : '1');
  }
  return { hours, rest: { cond: `(${conds.join(' OR ')})`, args } };
}
