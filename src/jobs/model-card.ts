/**
 * A model card per version (Markdown for people, JSON for tools): what the model was
 * trained on (rows, data fingerprint), which features it reads, how well it does overall
 * and per slice, what its tests found, what it is for and where it should not be trusted,
 * and its lineage (run, data hash, params, code version). Built by `model test` from the
 * bundle, the test report and the version's run.
 */
import type { ModelBundle } from '../bundle/model-bundle.js';
import type { ModelVersion, Run } from '../tracking/entities.js';
import type { ModelTestReport } from './model-test.js';

export interface ModelCard {
  kind: 'carprice-model-card';
  formatVersion: 1;
  model: {
    name: string | null;
    version: string | null;
    stage: string | null;
    aliases: string[];
    algo: string;
    members: Array<{ algo: string; weight: number; features: number }>;
  };
  training: { rows: number; dataHash: string; source: string; createdAt: string };
  features: {
    numeric: string[];
    categorical: string[];
    optionalNumeric: string[];
    required: string[];
    /** Features computed from the inputs (car_age, log_odometer, ...). */
    derived: string[];
    /** Inputs read only to derive features, not used as features themselves. */
    excluded: string[];
    /**
     * Target transform and the output offset (bias correction) the prices go through;
     * ageSlope: the output's change per year of car_age (bias correction 'mape_age', folded
     * into a linear member's car_age coefficient), 0 without.
     */
    target: { column: string; transform: string; offset: number; ageSlope: number };
  };
  metrics: {
    test: Record<string, number>;
    testRows: number;
    testDataHash: string;
    slices: ModelTestReport['slices']['slices'];
  };
  tests: {
    passed: boolean;
    at: string;
    failures: string[];
    checks: Array<{ name: string; passed: boolean; detail: string }>;
  };
  intendedUse: string;
  limitations: string[];
  lineage: {
    runId: string | null;
    experimentId: string | null;
    dataHash: string;
    params: Record<string, unknown>;
    carpriceVersion: string;
    gitCommit: string | null;
    source: string | null;
  };
}

const INTENDED_USE =
  'Estimate the asking price (INR) of a used car listed in India from its listing fields, as a reference for sellers, buyers and pricing analysts. Not for lending, insurance or any decision about a person.';

function limitations(r: ModelTestReport): string[] {
  const out = [
    'Trained on one marketplace snapshot: prices drift with time, fuel prices and new-car prices; retrain and retest regularly.',
    'Rare and luxury cars (one-off models, prices above 20 lakh) are priced far less reliably than common ones; R² on a split moves with the few such cars it holds.',
    'Makes, models and variants never seen in training get a price from the words and the other fields only.',
  ];
  for (const s of r.slices.flagged)
    out.push(
      `Weak slice: ${s.column} = ${s.value} (MAPE ${(100 * s.mape).toFixed(1)}% over ${s.n} test listings, overall ${(100 * r.slices.overall.mape).toFixed(1)}%).`,
    );
  return out;
}

export function buildModelCard(o: {
  report: ModelTestReport;
  bundle: ModelBundle;
  run?: Run;
  version?: ModelVersion;
}): { json: ModelCard; markdown: string } {
  const { report: r, bundle: b } = o;
  const tag = (k: string) => o.run?.data.tags.find((t) => t.key === k)?.value ?? null;
  const json: ModelCard = {
    kind: 'carprice-model-card',
    formatVersion: 1,
    model: {
      name: r.model.name,
      version: r.model.version,
      stage: o.version?.currentStage ?? null,
      aliases: o.version?.aliases ?? [],
      algo: b.metadata.algo,
      members: b.members.map((m) => ({ algo: m.algo, weight: m.weight, features: m.features.columns().length })),
    },
    training: {
      rows: b.metadata.training.rows,
      dataHash: b.metadata.training.dataHash,
      source: b.metadata.training.source,
      createdAt: b.metadata.createdAt,
    },
    features: {
      numeric: [...b.inputSchema.numeric],
      categorical: [...b.inputSchema.categorical],
      optionalNumeric: [...b.inputSchema.optionalNumeric],
      required: [...b.inputSchema.required],
      derived: [...new Set(b.members.flatMap((m) => [...m.features.config.derived]))],
      excluded: [...new Set(b.members.flatMap((m) => [...(m.features.config.exclude ?? [])]))],
      target: {
        column: b.inputSchema.target,
        transform: b.targetTransform,
        offset: b.outputOffset,
        ageSlope: b.members.reduce((a, m) => a + Number(m.estimator.fitInfo?.mape_age_slope ?? 0), 0),
      },
    },
    metrics: { test: r.metrics, testRows: r.data.rows, testDataHash: r.data.dataHash, slices: r.slices.slices },
    tests: {
      passed: r.passed,
      at: r.testedAt,
      failures: r.failures,
      checks: [
        ...r.gates.map((g) => ({
          name: `gate ${g.name}`,
          passed: g.passed,
          detail: `${g.value} against ${g.threshold}`,
        })),
        ...(r.champion ? [{ name: 'champion comparison', passed: r.champion.passed, detail: r.champion.detail }] : []),
        ...r.behaviour.map((c) => ({ name: c.name, passed: c.passed, detail: c.detail })),
      ],
    },
    intendedUse: INTENDED_USE,
    limitations: limitations(r),
    lineage: {
      runId: r.model.runId,
      experimentId: o.run?.info.experimentId ?? null,
      dataHash: b.metadata.training.dataHash,
      params: b.metadata.params,
      carpriceVersion: b.metadata.carpriceVersion,
      gitCommit: tag('mlflow.source.git.commit'),
      source: o.version?.source ?? r.model.bundle,
    },
  };
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const title = r.model.version ? `${r.model.name} v${r.model.version}` : `local bundle ${r.model.bundle}`;
  const md = [
    `# Model card: ${title}`,
    '',
    `${json.model.algo} (${json.model.members.map((m) => `${m.algo} x ${m.weight.toFixed(2)}, ${m.features} features`).join('; ')})${json.model.stage ? `; stage ${json.model.stage}` : ''}${json.model.aliases.length ? `; aliases ${json.model.aliases.join(', ')}` : ''}.`,
    '',
    '## Intended use',
    '',
    INTENDED_USE,
    '',
    '## Training data',
    '',
    `${json.training.rows} listings from ${json.training.source} (fingerprint ${json.training.dataHash}), trained ${json.training.createdAt}.`,
    '',
    '## Features',
    '',
    `Required: ${json.features.required.join(', ')}. Used when present: ${json.features.optionalNumeric.join(', ') || 'none'}.`,
    `Derived: ${json.features.derived.join(', ') || 'none'}. Read only to derive features: ${json.features.excluded.join(', ') || 'none'}.`,
    `Target: ${json.features.target.transform} of ${json.features.target.column}${json.features.target.offset ? `, output offset ${json.features.target.offset.toFixed(5)} (MAPE bias correction: ${json.features.target.transform === 'log1p' ? `1 + price x ${Math.exp(json.features.target.offset).toFixed(4)}` : `price ${json.features.target.offset > 0 ? '+' : '-'} ${Math.abs(json.features.target.offset).toFixed(0)}`})` : ''}${json.features.target.ageSlope ? `, and ${json.features.target.ageSlope.toFixed(4)} per year of car_age (older cars' prices spread more, so their MAPE-optimal price sits lower; folded into the linear member's car_age coefficient)` : ''}.`,
    '',
    '## Metrics',
    '',
    `On ${r.data.rows} test listings (fingerprint ${r.data.dataHash}): R² ${r.metrics.r2.toFixed(4)}, RMSE ${Math.round(r.metrics.rmse)} INR, MAE ${Math.round(r.metrics.mae)} INR, MAPE ${pct(r.metrics.mape)}, MedAPE ${pct(r.metrics.medape)}, within 10% ${pct(r.metrics.within10)}.`,
    '',
    '| slice | listings | MAPE | MAE (INR) |',
    '|---|---|---|---|',
    ...r.slices.slices.map(
      (s) =>
        `| ${s.column} = ${s.value}${s.flagged ? ' (flagged)' : ''} | ${s.n} | ${pct(s.mape)} | ${Math.round(s.mae)} |`,
    ),
    '',
    `## Tests (${r.passed ? 'passed' : 'FAILED'}, ${r.testedAt})`,
    '',
    ...json.tests.checks.map((c) => `- ${c.passed ? 'pass' : 'FAIL'}: ${c.name}: ${c.detail}`),
    '',
    '## Limitations',
    '',
    ...json.limitations.map((l) => `- ${l}`),
    '',
    '## Lineage',
    '',
    `- run: ${json.lineage.runId ?? '-'} (experiment ${json.lineage.experimentId ?? '-'})`,
    `- training data hash: ${json.lineage.dataHash}`,
    `- carprice ${json.lineage.carpriceVersion}${json.lineage.gitCommit ? `, commit ${json.lineage.gitCommit}` : ''}`,
    `- source: ${json.lineage.source ?? '-'}`,
    `- params: \`${JSON.stringify(json.lineage.params)}\``,
    '',
  ];
  return { json, markdown: md.join('\n') };
}
