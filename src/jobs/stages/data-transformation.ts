/**
 * Stage data_transformation: fit the feature pipeline(s) the configured algorithm needs on
 * train.csv and save the preprocessor with the transformed training matrices.
 */
import { prepareFeatures } from '../../bundle/train-bundle.js';
import { savePrepared } from '../../bundle/prepared-features-file.js';
import { loadListings } from '../load-listings.js';
import { trainingOptions } from '../training-options.js';
import { stagePaths, type StageContext } from './stage-context.js';

export async function dataTransformation(
  ctx: StageContext,
): Promise<{ families: string[]; rows: number; columns: Record<string, number> }> {
  const paths = stagePaths(ctx);
  const p = ctx.params;
  const train = await loadListings(paths.train, { params: p, env: ctx.env, logger: ctx.logger, signal: ctx.signal });
  const prep = prepareFeatures(train.frame, train.y!, train.schema, {
    ...trainingOptions(p, p.model_trainer.algo),
    signal: ctx.signal,
  });
  savePrepared(prep, paths.transformation);
  const columns = Object.fromEntries(Object.entries(prep.families).map(([k, f]) => [k, f.X.nCols]));
  return { families: Object.keys(prep.families), rows: train.frame.nRows, columns };
}
