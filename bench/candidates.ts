/**
 * A candidate setting for the model-quality benches (bench/model-search, bench/quality-grid):
 * `label|key=value|...`, params.yaml with `--set`-style overrides; `algo=NAME` picks the
 * algorithm (default params.yaml's).
 */
import type { Params } from '../src/config/params.js';
import { withOverrides } from '../src/jobs/experiments/experiment-runs.js';
import { algorithmInfo } from '../src/ml/algorithm-catalog.js';

export interface Candidate {
  label: string;
  algo: string;
  params: Params;
}

export function parseCandidate(text: string, base: Params): Candidate {
  const [label, ...sets] = text.split('|');
  const algoSet = sets.find((s) => s.startsWith('algo='));
  const rest = sets.filter((s) => !s.startsWith('algo='));
  const params = withOverrides(base, rest);
  const algo = algoSet ? algoSet.slice(5) : params.model_trainer.algo;
  algorithmInfo(algo); // an unknown name is a USAGE error naming the choices
  return { label: label || text, algo, params };
}
