/**
 * The car pipeline's stages by name (what dvc.yaml's `carprice stage <name>` lines run), in
 * pipeline order. Each entry loads its job only when that stage runs, so `carprice stage`
 * starts without loading the others' code. The CLI command only looks names up here.
 */
import type { StageContext } from './stage-context.js';

/** A stage's job: params, paths and I/O come in through the context. */
export type StageJob = (ctx: StageContext) => Promise<unknown>;

export const STAGE_JOBS: Readonly<Record<string, () => Promise<StageJob>>> = {
  data_ingestion: async () => (await import('./data-ingestion.js')).dataIngestion,
  data_transformation: async () => (await import('./data-transformation.js')).dataTransformation,
  model_trainer: async () => (await import('./model-trainer.js')).modelTrainer,
  model_evaluation: async () => (await import('./model-evaluation.js')).modelEvaluation,
  register_model: async () => (await import('./register-model.js')).registerModel,
};
