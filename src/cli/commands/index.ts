/**
 * The command table. Each entry lives in its own file named after the verb it runs.
 * Add a command by importing it here and appending it to `commands` (keep one line each
 * so that parallel additions do not collide).
 */
import type { Command } from '../command.js';
import { reproCommand } from './repro.js';
import { statusCommand } from './status.js';
import { dagCommand } from './dag.js';
import { addCommand } from './add.js';
import { pushCommand } from './push.js';
import { pullCommand } from './pull.js';
import { fetchCommand } from './fetch.js';
import { checkoutCommand } from './checkout.js';
import {
  remoteAddCommand,
  remoteListCommand,
  remoteModifyCommand,
  remoteRemoveCommand,
  remoteDefaultCommand,
} from './remote.js';
import { paramsDiffCommand } from './params.js';
import { metricsShowCommand, metricsDiffCommand } from './metrics.js';
import { trainCommand } from './train.js';
import { startCommand } from './start.js';
import { stageCommand } from './stage.js';
import { evaluateCommand } from './evaluate.js';
import { cvCommand } from './cv.js';
import { predictCommand } from './predict.js';
import { dataIngestCommand, dataSynthCommand } from './data.js';
import { trackingServeCommand } from './tracking-serve.js';
import { trackingMigrateCommand } from './tracking-migrate.js';
import { trackingExportCommand, trackingImportCommand } from './tracking-transfer.js';
import { experimentsListCommand } from './experiments.js';
import { runsListCommand, runsShowCommand } from './runs.js';
import { modelsListCommand, modelsShowCommand } from './models.js';
import { serveCommand } from './serve.js';
import { upCommand } from './up.js';
import { modelsDownloadCommand } from './models-download.js';
import {
  modelTestCommand,
  modelPromoteCommand,
  modelRollbackCommand,
  modelListCommand,
  modelHistoryCommand,
} from './model.js';
import { monitorExportCommand, monitorDriftCommand, monitorFeedbackCommand, monitorShadowCommand } from './monitor.js';
import { expBaselineCommand, expCompareCommand, expTuneCommand, expShowCommand } from './exp.js';
import {
  deployCommand,
  deployRollbackCommand,
  deployStatusCommand,
  deployStopCommand,
  deployLbCommand,
} from './deploy.js';

export const commands: Command[] = [
  // --- foundation ---
  startCommand,
  stageCommand,
  trainCommand,
  evaluateCommand,
  cvCommand,
  predictCommand,
  dataIngestCommand,
  dataSynthCommand,
  // --- tracking ---
  trackingServeCommand,
  trackingMigrateCommand,
  trackingExportCommand,
  trackingImportCommand,
  experimentsListCommand,
  runsListCommand,
  runsShowCommand,
  modelsListCommand,
  modelsShowCommand,
  modelsDownloadCommand,
  // --- governance: model tests, promotion, experiments ---
  modelTestCommand,
  modelPromoteCommand,
  modelRollbackCommand,
  modelListCommand,
  modelHistoryCommand,
  expBaselineCommand,
  expCompareCommand,
  expTuneCommand,
  expShowCommand,
  // --- pipeline ---
  reproCommand,
  statusCommand,
  dagCommand,
  addCommand,
  pushCommand,
  pullCommand,
  fetchCommand,
  checkoutCommand,
  remoteAddCommand,
  remoteListCommand,
  remoteModifyCommand,
  remoteRemoveCommand,
  remoteDefaultCommand,
  paramsDiffCommand,
  metricsShowCommand,
  metricsDiffCommand,
  // --- serving / deploy ---
  serveCommand,
  upCommand,
  deployCommand,
  deployRollbackCommand,
  deployStatusCommand,
  deployStopCommand,
  deployLbCommand,
  // --- monitoring ---
  monitorExportCommand,
  monitorDriftCommand,
  monitorFeedbackCommand,
  monitorShadowCommand,
];
