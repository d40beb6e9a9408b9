/**
 * Real DVC 3.64 against carprice, kept: each test/fixtures/dvc/*.json is a session recorded
 * with real DVC (the files, the git commits, every `dvc ...` command with its exit code,
 * stdout and stderr, and the bytes of the files it wrote; see the README there). carprice
 * replays the session with the same arguments in a fresh temp repo and must answer the
 * same, step by step. Differences that are deliberate are listed in KNOWN with the reason;
 * every other difference fails the step that made it.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, loadDvcRecording, replayDvc, type StepResult } from '../helpers/dvc-replay.js';

const hasGit = spawnSync('git', ['--version']).status === 0;

/**
 * Where carprice answers differently on purpose, each with its reason (the README's
 * "Where carprice differs from DVC on purpose" says the same to users). `match` is tested
 * against "<step label>: <difference>" (in `fixture` only, when given); a step with any
 * difference no entry explains fails.
 */
const KNOWN: { item: string; fixture?: string; match: RegExp }[] = [
  {
    item: 'repro --dry prints what would happen and ends with "(dry run: nothing was run or written)"; DVC prints "is cached - skipping run" and then "Running stage" for the same stage, and "Use `dvc push`" though nothing was written. On a missing dependency both stop (DVC exit 255 with a Python errno, carprice exit 7 naming the fix and the stages it skipped)',
    fixture: 'pipeline',
    match: /^#\d+ repro --dry: (stdout line|stderr line|exit code)/,
  },
  {
    item: 'a date in params.yaml (read for ${} interpolation): both refuse it with the same words, DVC as an "unexpected error" with a support link, carprice as a designed error that says how to fix it (quote the date)',
    fixture: 'params-date',
    match:
      /^#\d+ (status|repro): stderr line 1: DVC "ERROR: unexpected error - Unsupported value of type '(date|datetime)' in '([^']+)'", carprice "carprice: Unsupported value of type '\2' in '\3': .*quote it/,
  },
  {
    item: "a date in another params file: both refuse the stage with DVC's words, carprice adding the key and the fix",
    fixture: 'params-date',
    match:
      /^#\d+ repro: stderr line 1: DVC "ERROR: failed to reproduce '(\w+)': Object of type date is not JSON serializable", carprice "ERROR: failed to reproduce '\1': Object of type date is not JSON serializable: parameter .*quote it/,
  },
  {
    item: 'a date in another params file: carprice refuses the stage before touching its outputs; DVC deletes them first (then `status` lists them as deleted)',
    fixture: 'params-date',
    match:
      /^#\d+ (files o\.txt dvc\.lock: o\.txt: absent after DVC, present after carprice|status: stdout line 5: DVC "\\tchanged outs:", carprice "")$/,
  },
];

const names = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

for (const name of names) {
  const rec = loadDvcRecording(name);
  describe(
    `carprice replaying real DVC: ${name} (${rec.about})`,
    { skip: hasGit ? false : 'git is not installed' },
    () => {
      let base: string;
      let results: StepResult[] = [];
      before(async () => {
        base = mkdtempSync(join(tmpdir(), `carprice-dvc-${name}-`));
        results = await replayDvc(rec, base);
        for (const r of results)
          r.diffs = r.diffs.filter(
            (d) => !KNOWN.some((k) => (k.fixture ?? name) === name && k.match.test(`${r.label}: ${d}`)),
          );
      });
      after(() => rmSync(base, { recursive: true, force: true }));

      const checks = rec.steps
        .map((s, i) => ({ s, i }))
        .filter(({ s }) => s.dvc || s.snapshot || s.listdir)
        .map(({ s, i }) =>
          s.dvc
            ? `#${i} ${s.dvc.join(' ')}`
            : s.snapshot
              ? `#${i} files ${s.snapshot.join(' ')}`
              : `#${i} paths under ${(s.listdir ?? []).join(' ')}`,
        );
      for (const label of checks) {
        it(`${label}: same as DVC (but for the deliberate differences listed in KNOWN)`, (t) => {
          const r = results.find((x) => x.label === label);
          assert.ok(r, `step ${label} was not replayed`);
          if (r.bendOrderOnly)
            t.diagnostic(
              "differs from this DVC run only in the order of bend points DVC took from its edge set (it varies between DVC's runs); in DVC's order carprice drew DVC's bytes",
            );
          assert.deepEqual(
            r.diffs,
            [],
            r.got ? `carprice printed:\n${r.got.stdout}\n--- stderr:\n${r.got.stderr}` : '',
          );
        });
      }
    },
  );
}
