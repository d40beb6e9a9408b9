/**
 * carprice's import rules, checked by dependency-cruiser on every `npm test`
 * (`npm run lint:deps`). docs/ARCHITECTURE.md explains each layer and each exception; this
 * file is the enforced copy of its dependency matrix. Type-only imports count like any
 * other import: a layer may not even name the types of a layer it must not know.
 *
 * To add a top folder under src/: give it a row in LAYERS (and in the document), or every
 * import into it fails the `not-in-matrix` rule.
 */

/**
 * The allowed matrix: each top folder of src/ and the other top folders its production
 * code may import. Everything not listed is denied. Tests (*.test.ts) are exempt: they
 * may reach fixtures and helpers anywhere.
 */
const LAYERS = {
  core: [],
  config: ['core'],
  data: ['core', 'config'],
  // features may use ml/matrix.ts and ml/linalg only (rule features-ml-surface below)
  features: ['core', 'data', 'ml'],
  ml: ['core'],
  bundle: ['core', 'config', 'data', 'features', 'ml'],
  tracking: ['core', 'config'],
  pipeline: ['core', 'config'],
  monitoring: ['core', 'config', 'data', 'features', 'ml', 'bundle', 'tracking'],
  serving: ['core', 'config', 'data', 'features', 'bundle', 'tracking', 'monitoring', 'dashboard'],
  dashboard: ['core', 'config', 'data', 'tracking', 'pipeline', 'monitoring'],
  deploy: ['core', 'config', 'tracking'],
  // jobs may use ml's catalogue, registry and metrics only (rule jobs-ml-surface below)
  jobs: ['core', 'config', 'data', 'features', 'ml', 'bundle', 'tracking', 'monitoring'],
  // cli may use ml's catalogue and metrics only (rule cli-ml-surface below)
  cli: [
    'core',
    'config',
    'data',
    'features',
    'ml',
    'bundle',
    'tracking',
    'pipeline',
    'jobs',
    'serving',
    'monitoring',
    'deploy',
    'dashboard',
  ],
};

/** ml/ files that may import Node built-ins: the worker-pool boundary. */
const ML_WORKER_BOUNDARY = ['src/ml/parallel-fit.ts', 'src/ml/fit-worker.ts'];

const TEST = '\\.test\\.ts$';
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const layerRules = Object.entries(LAYERS).map(([layer, allowed]) => ({
  name: `layer-${layer}`,
  comment: `src/${layer}/ may import only ${allowed.length ? allowed.map((a) => `src/${a}/`).join(', ') : 'nothing else in src/'} (docs/ARCHITECTURE.md, dependency matrix)`,
  severity: 'error',
  from: { path: `^src/${layer}/`, pathNot: TEST },
  to: { path: `^src/(?!(?:${[layer, ...allowed].join('|')})/)[^/]+/` },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'not-in-matrix',
      comment:
        'every file under src/ lives in a top folder that has a row in the matrix (add new folders to LAYERS and docs/ARCHITECTURE.md)',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: `^src/(?!(?:${Object.keys(LAYERS).join('|')})/)` },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'cli/ is the top: nothing outside it imports it',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'ml-no-node-builtins',
      comment: `ml/ is pure numeric code: no Node built-ins except the worker-pool boundary (${ML_WORKER_BOUNDARY.join(', ')})`,
      severity: 'error',
      from: { path: '^src/ml/', pathNot: [TEST, ...ML_WORKER_BOUNDARY.map((f) => `^${esc(f)}$`)] },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'ml-no-packages',
      comment: 'ml/ uses no npm packages: every algorithm is implemented here',
      severity: 'error',
      from: { path: '^src/ml/', pathNot: TEST },
      to: {
        dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'],
      },
    },
    {
      name: 'features-ml-surface',
      comment: 'features/ may use ml/matrix.ts (the matrix it produces) and ml/linalg/ only, never estimators',
      severity: 'error',
      from: { path: '^src/features/', pathNot: TEST },
      to: { path: '^src/ml/', pathNot: '^src/ml/(?:matrix\\.ts$|linalg/)' },
    },
    {
      name: 'jobs-ml-surface',
      comment:
        'jobs/ and monitoring/ may use ml/algorithm-catalog.ts, ml/metrics.ts, ml/algorithms.ts (factories), ml/estimator.ts and ml/matrix.ts (types, row selection) and ml/parallel-fit.ts (hyper-parameter tuning fits many estimators on one prepared matrix); models are otherwise fitted and used through bundle/',
      severity: 'error',
      from: { path: '^src/(?:jobs|monitoring)/', pathNot: TEST },
      to: {
        path: '^src/ml/',
        pathNot: '^src/ml/(?:algorithm-catalog|metrics|algorithms|estimator|matrix|parallel-fit)\\.ts$',
      },
    },
    {
      name: 'cli-ml-surface',
      comment: 'cli/ may use ml/algorithm-catalog.ts and ml/metrics.ts only',
      severity: 'error',
      from: { path: '^src/cli/', pathNot: TEST },
      to: { path: '^src/ml/', pathNot: '^src/ml/(?:algorithm-catalog|metrics)\\.ts$' },
    },
    {
      name: 'tracking-backends-apart',
      comment:
        'each tracking backend (sqlite/, postgres/, rest/, and any other store folder) is independent of the others; they share store.ts, entities.ts, protocol/ and (the SQL ones) sql/',
      severity: 'error',
      from: { path: '^src/tracking/(sqlite|rest|postgres)/' },
      to: { path: '^src/tracking/(?:sqlite|rest|postgres)/', pathNot: '^src/tracking/$1/' },
    },
    {
      name: 'tracking-sql-driver-free',
      comment:
        'tracking/sql/ is the SQL stores written once against the SqlEngine interface: it imports no backend and no database driver (better-sqlite3, pg); the engines in sqlite/ and postgres/ drive it',
      severity: 'error',
      from: { path: '^src/tracking/sql/', pathNot: TEST },
      to: {
        path: ['^src/tracking/(?:sqlite|rest|postgres)/', '^node_modules/(?:better-sqlite3|pg)/'],
      },
    },
    {
      name: 'tracking-internals',
      comment:
        'outside tracking/, reach a store through resolve-store.ts / client.ts / index.ts, never a backend, the wire protocol or the artifact repositories directly',
      severity: 'error',
      // `carprice tracking migrate` copies between two named backends, so it opens them itself
      from: { path: '^src/', pathNot: ['^src/tracking/', TEST, '^src/cli/commands/tracking-migrate\\.ts$'] },
      to: { path: '^src/tracking/(?:sqlite|rest|postgres|protocol|artifacts)/' },
    },
    {
      name: 'no-circular',
      comment:
        "no import cycles at run time (static or dynamic imports); a type-only back-reference (a class and its helper naming each other's types) is erased by tsc and allowed",
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    cache: { folder: 'node_modules/.cache/dependency-cruiser', strategy: 'content' },
  },
};
