/**
 * Tracking runs left RUNNING by a stage process that died (SIGKILL, power loss): while a
 * stage has a run open, a small file `.carprice/open-runs/<run_id>.json` names the run, the
 * stage process and the tracking store. The next stage process of the project (the next
 * `carprice repro`, or `dvc repro`) marks every run whose process is gone FAILED, through
 * the tracking client, and removes the file. Runs of another tracking store are left
 * alone until a stage runs against that store again.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { resolveTrackingUri } from '../../tracking/resolve-store.js';
import { openTracking, redactUri, type StageContext } from './stage-context.js';

interface OpenRun {
  run_id: string;
  pid: number;
  tracking_uri: string;
  stage: string;
}

function dir(ctx: StageContext): string {
  return join(ctx.cwd, '.carprice', 'open-runs');
}

function currentUri(ctx: StageContext): string {
  return redactUri(resolveTrackingUri({ env: ctx.env, paramsUri: ctx.params.mlflow.tracking_uri, cwd: ctx.cwd }));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Note that this process has `runId` open (call right after the run starts). */
export function noteOpenRun(ctx: StageContext, runId: string, stage: string): void {
  const rec: OpenRun = { run_id: runId, pid: process.pid, tracking_uri: currentUri(ctx), stage };
  writeFileAtomic(join(dir(ctx), `${runId}.json`), JSON.stringify(rec) + '\n');
}

/** The run ended (FINISHED or FAILED): forget it. */
export function forgetOpenRun(ctx: StageContext, runId: string): void {
  rmSync(join(dir(ctx), `${runId}.json`), { force: true });
}

/** Mark FAILED every run left RUNNING by a stage process that is gone; returns their ids. */
export async function failOrphanedRuns(ctx: StageContext): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync(dir(ctx)).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const uri = currentUri(ctx);
  const orphans: OpenRun[] = [];
  for (const n of names) {
    let rec: OpenRun;
    try {
      rec = JSON.parse(readFileSync(join(dir(ctx), n), 'utf8')) as OpenRun;
    } catch {
      rmSync(join(dir(ctx), n), { force: true });
      continue;
    }
    if (typeof rec.run_id !== 'string' || typeof rec.pid !== 'number') {
      rmSync(join(dir(ctx), n), { force: true });
      continue;
    }
    if (rec.pid !== process.pid && alive(rec.pid)) continue;
    if (rec.tracking_uri !== uri) continue;
    orphans.push(rec);
  }
  if (orphans.length === 0) return [];
  const failed: string[] = [];
  let client;
  try {
    client = openTracking(ctx);
  } catch (e) {
    ctx.logger?.debug({ err: e }, 'cannot open the tracking store to close orphaned runs');
    return [];
  }
  try {
    for (const rec of orphans) {
      try {
        const run = await client.getRun(rec.run_id);
        if (run.info.status === 'RUNNING') {
          await client.setTags(rec.run_id, {
            'carprice.failure': `the ${rec.stage} stage process (pid ${rec.pid}) ended without closing the run`,
          });
          await client.endRun(rec.run_id, 'FAILED');
          failed.push(rec.run_id);
          ctx.report?.(
            `${rec.stage}: run ${rec.run_id} was left RUNNING by a stage process that died; marked it FAILED`,
          );
        }
      } catch (e) {
        ctx.logger?.debug({ err: e, runId: rec.run_id }, 'could not close an orphaned run');
        if (!/not found|does not exist|RESOURCE_DOES_NOT_EXIST/i.test((e as Error).message)) continue;
      }
      forgetOpenRun(ctx, rec.run_id);
    }
  } finally {
    await client.close();
  }
  return failed;
}
