/**
 * Stage register_model: move the new version to model_registration.register_as (Staging)
 * only when evaluation flagged it better, and point the `challenger` alias at it. The
 * decision is recorded in registration.json either way; a false flag is not a failure.
 *
 * It never moves a version back: a version already in Production or Archived (an
 * evaluation_info.json older than the trainer's last run, when `carprice stage register_model`
 * runs on its own) stays where it is, and the champion keeps its alias; registration.json
 * says why. Promotion and rollback are `carprice model promote|rollback`'s.
 */
import { writeFileAtomic } from '../../core/atomic-write.js';
import { stableStringify } from '../../core/stable-json.js';
import { readStageJson, type EvaluationInfo } from './model-evaluation.js';
import { openTracking, stagePaths, type StageContext } from './stage-context.js';

export interface Registration {
  model_name: string;
  model_version: string;
  transitioned: boolean;
  stage: string | null;
  reason: string;
}

export async function registerModel(ctx: StageContext): Promise<Registration> {
  const paths = stagePaths(ctx);
  const info = await readStageJson<EvaluationInfo>(paths.evaluationInfo, 'model_evaluation');
  const target = ctx.params.model_registration.register_as;
  let result: Registration;
  if (!info.flag || target === 'None') {
    result = {
      model_name: info.model_name,
      model_version: info.model_version,
      transitioned: false,
      stage: null,
      reason: info.flag ? 'register_as is None' : info.reason,
    };
  } else {
    const client = openTracking(ctx);
    try {
      const current = await client.store.getModelVersion(info.model_name, info.model_version);
      if (current.currentStage === 'Production' || current.currentStage === 'Archived') {
        result = {
          model_name: info.model_name,
          model_version: info.model_version,
          transitioned: false,
          stage: null,
          reason:
            `v${info.model_version} is already in ${current.currentStage}: register_model never moves a version back ` +
            `(its evaluation_info.json is older than the trainer's last run: run \`carprice repro\`, or ` +
            `\`carprice stage model_evaluation\` first)`,
        };
      } else {
        await client.transitionStage(info.model_name, info.model_version, target, false);
        await client.setAlias(info.model_name, 'challenger', info.model_version);
        result = {
          model_name: info.model_name,
          model_version: info.model_version,
          transitioned: true,
          stage: target,
          reason: info.reason,
        };
      }
    } finally {
      await client.close();
    }
  }
  writeFileAtomic(paths.registration, stableStringify(result, 2) + '\n');
  ctx.report?.(
    result.transitioned
      ? `register_model: ${result.model_name} v${result.model_version} -> ${result.stage} (alias challenger)`
      : `register_model: ${result.model_name} v${result.model_version} not moved: ${result.reason}`,
  );
  return result;
}
