/**
 * The built CLI (`node dist/src/cli/main.js`) as a child process, for integration tests:
 * run it with arguments in a directory and collect exit code, stdout and stderr, under an
 * environment cleaned of the parent's CARPRICE_ / MLFLOW_ variables so the developer's
 * shell cannot change what a test sees.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Project root (this file runs as dist/test/helpers/built-cli.js). */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Path of the built CLI entry point. */
export const BUILT_CLI = join(root, 'dist', 'src', 'cli', 'main.js');

/** What a finished CLI process gave back. */
export interface CliResult {
  /** Exit code; -1 when the process was killed by a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

/** The parent's environment without any CARPRICE_/MLFLOW_ variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e = { ...process.env };
  for (const k of Object.keys(e)) if (k.startsWith('CARPRICE_') || k.startsWith('MLFLOW_')) delete e[k];
  return { ...e, ...extra };
}

/** Run `node BUILT_CLI ...args` in `cwd` under cleanEnv(extraEnv) and wait for it to close. */
export function runBuiltCli(
  args: readonly string[],
  cwd: string,
  extraEnv: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BUILT_CLI, ...args], { cwd, env: cleanEnv(extraEnv) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}
