/**
 * The shape of a CLI command. A command only maps flags to a library call of the same
 * name and writes the result to stdout; errors are thrown as AppError and turned into a
 * message and an exit code by main.ts, the one catch.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Env } from '../config/env.js';
import type { Logger } from '../core/logger.js';

export interface Output {
  write(text: string): void;
  /** Write and wait until the stream can take more (bounded memory for long outputs). */
  writeAsync?(text: string): Promise<void>;
  /** True when the stream is an interactive terminal (progress bars allowed). */
  readonly isTTY: boolean;
  /** The terminal's width in columns, when the stream is a terminal. */
  readonly columns?: number;
}

export interface CommandContext {
  /** Project root the command acts on (the current directory). */
  cwd: string;
  env: Env;
  stdout: Output;
  stderr: Output;
  logger: Logger;
  /** Aborted on SIGINT/SIGTERM: long commands stop cleanly and leave no half-written output. */
  signal: AbortSignal;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export interface Command {
  /** Words that select the command, e.g. 'train' or 'tracking serve' or 'remote add'. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Full help text shown by --help (usage line, flags, examples). */
  help: string;
  options: OptionSpec;
  /** Whether positional arguments are accepted. */
  positionals?: boolean;
  /** Returns the exit code (0 when omitted). */
  run(args: ParsedArgs, ctx: CommandContext): Promise<number | void>;
}
