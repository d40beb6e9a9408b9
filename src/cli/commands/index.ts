/**
 * The command table. Each entry lives in its own file named after the verb it runs.
 * Add a command by importing it here and appending it to `commands` (keep one line each
 */
import type { Command } from '../command.js';
import { trainCommand } from './train.js';
import { evaluateCommand } from './evaluate.js';
import { predictCommand } from './predict.js';
import { dataIngestCommand, dataSynthCommand } from './data.js';

export const commands: Command[] = [
  // --- foundation ---
  trainCommand,
  evaluateCommand,
  predictCommand,
  dataIngestCommand,
  dataSynthCommand,
  // --- pipeline ---
  // --- serving / deploy ---
];
