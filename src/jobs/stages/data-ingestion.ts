/** Stage data_ingestion: raw listings -> validated, deduplicated raw/train/test CSVs. */
import { dirname } from 'node:path';
import { ingest, type IngestResult } from '../ingest.js';
import { projectPath, stagePaths, type StageContext } from './stage-context.js';

export async function dataIngestion(ctx: StageContext): Promise<IngestResult> {
  const source = projectPath(ctx, ctx.env.CARPRICE_DATA_URL ?? ctx.params.data_source.raw_data);
  return ingest({
    params: ctx.params,
    source,
    outDir: dirname(stagePaths(ctx).raw),
    env: ctx.env,
    logger: ctx.logger,
    signal: ctx.signal,
    onReport: ctx.report,
  });
}
