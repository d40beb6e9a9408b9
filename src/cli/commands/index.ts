/**
 * The command table. Each entry lives in its own file named after the verb it runs.
 * Add a command by importing it here and appending it to `commands` (keep one line each
 * so that parallel additions do not collide).
 */
import type { Command } from '../command.js';

export const commands: Command[] = [
  // --- foundation ---
  // --- tracking ---
  // --- pipeline ---
  // --- serving / deploy ---
];
