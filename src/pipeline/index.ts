/**
 * The DVC-compatible pipeline runner: the functions the CLI commands (and the lead's code)
 * call. It knows nothing about ML: it runs `cmd` strings from dvc.yaml, exactly like DVC.
 */
export {
  reproduce,
  describeStatus,
  type ReproduceOptions,
  type ReproduceResult,
  type StageOutcome,
} from './reproduce.js';
export { status, formatStatus, statusJson, type StatusOptions, type StatusResult } from './status.js';
export { dag, type DagOptions } from './dag.js';
export { add, type AddOptions, type AddedPath } from './add.js';
export {
  push,
  fetch,
  pull,
  checkout,
  formatCheckout,
  formatMissing,
  plural,
  type TransferOptions,
  type TransferResult,
  type CheckoutResult,
} from './transfer.js';
export { remoteAdd, remoteList, remoteModify, remoteRemove, remoteDefault } from './remotes.js';
export {
  paramsDiff,
  paramsDiffReport,
  metricsShow,
  metricsDiff,
  metricStr,
  metricChange,
  diffJson,
  metricsShowJson,
  type DiffRow,
  type CompareOptions,
} from './compare.js';
export { plainTable, markdownTable } from './table.js';
export { Repo } from './repo.js';
export { loadPipeline, parsePipeline, type Pipeline, type StageDef, type OutDef, type ParamsDef } from './dvc-yaml.js';
export { hashPath, hashFile, hashDir, type HashInfo, type DirHash } from './hash.js';
export { LockFile, buildLockEntry } from './lockfile.js';
export { dumpYaml } from './yaml-dump.js';
export { loadYaml } from './yaml-load.js';
export { acquireRepoLock } from './repo-lock.js';
