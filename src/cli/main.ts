#!/usr/bin/env node
/**
 * The carprice CLI entrypoint: parse -> dispatch -> one catch -> exit code.
 * Results go to stdout, logs and errors to stderr.
 */
import { parseArgs } from 'node:util';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AppError, exitCodeOf, isAppError } from '../core/errors.js';
import { writeFailure } from '../core/atomic-write.js';
import { CARPRICE_VERSION } from '../core/version.js';
import { nearestName } from '../core/text.js';
import { applyProcessDefaults, readEnv } from '../config/env.js';
import { createLogger } from './logger.js';
import { commands } from './commands/index.js';
import type { Command, CommandContext, OptionSpec, Output } from './command.js';

/**
 * A process stream as the commands' Output. A write that fails (stdout on a full disk, a
 * closed pipe) makes the stream emit 'error' on the next tick, which with no listener ends
 * the process with a stack trace: the listener here takes it, and the failure surfaces as an
 * error from the next write (and from `outputFailure` at the end), so a command stops and
 * the one catch turns it into a message and an exit code.
 */
function out(stream: NodeJS.WriteStream): Output {
  if (!stream.listeners('error').includes(ignoreStreamError)) stream.on('error', ignoreStreamError);
  const check = () => {
    const e = outputFailure(stream);
    if (e) throw e;
  };
  return {
    write: (t: string) => {
      check();
      stream.write(t);
      check();
    },
    writeAsync: (t: string) =>
      new Promise<void>((res, rej) => {
        const failed = outputFailure(stream);
        if (failed) return rej(failed);
        const onError = (e: Error) => rej(outputFailure(stream) ?? e);
        stream.once('error', onError);
        const done = () => {
          stream.off('error', onError);
          res();
        };
        if (stream.write(t)) done();
        else stream.once('drain', done);
      }),
    get isTTY() {
      return Boolean(stream.isTTY);
    },
    get columns() {
      return stream.isTTY ? stream.columns : undefined;
    },
  };
}

function ignoreStreamError(): void {
  // recorded in stream.errored; reported by outputFailure
}

/**
 * The error a failed write left on `stream`, as the CLI reports it: EPIPE as it is (the
 * reader went away: a quiet stop), anything else FILE_UNWRITABLE naming the stream.
 */
function outputFailure(stream: NodeJS.WriteStream): Error | undefined {
  const e: NodeJS.ErrnoException | null = stream.errored;
  if (!e) return undefined;
  if (e.code === 'EPIPE') return e;
  const name = stream === process.stdout ? 'stdout' : stream === process.stderr ? 'stderr' : 'the output';
  const failure = writeFailure(e, `the output (${name})`);
  return failure instanceof Error ? failure : e;
}

/** Find the command whose name matches the longest prefix of argv words. */
export function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const c of commands) {
    const words = c.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.command.name.split(' ').length))
      best = { command: c, rest: argv.slice(words.length) };
  }
  return best;
}

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `carprice: used-car price models, end to end.\n\nUsage: carprice <command> [flags]   (carprice <command> --help for details)\n\nCommands:\n${lines.join('\n')}\n`;
}

/** Run the CLI with the given argv (without node and script); returns the exit code. */
export async function main(argv: string[], ctxOverrides: Partial<CommandContext> = {}): Promise<number> {
  const env = ctxOverrides.env ?? readEnv();
  const stdout = ctxOverrides.stdout ?? out(process.stdout);
  const stderr = ctxOverrides.stderr ?? out(process.stderr);
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    stderr.write(`\ncarprice: ${sig} received, stopping cleanly (again to force)\n`);
    controller.abort(new AppError('INTERRUPTED', `interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      stdout.write(overview());
      return argv.length === 0 ? 2 : 0;
    }
    if (argv[0] === '--version') {
      stdout.write(`carprice ${CARPRICE_VERSION}\n`);
      return 0;
    }
    const found = findCommand(argv);
    if (!found) {
      const prefix = commands.filter((c) => c.name.startsWith(argv[0] + ' ')).map((c) => c.name);
      throw new AppError(
        'USAGE',
        prefix.length
          ? `unknown subcommand "${argv.slice(0, 2).join(' ')}"; try one of: ${prefix.join(', ')}`
          : `unknown command "${argv[0]}"; run \`carprice --help\` for the list`,
      );
    }
    const { command, rest } = found;
    if (rest.includes('--help') || rest.includes('-h')) {
      stdout.write(command.help.endsWith('\n') ? command.help : command.help + '\n');
      return 0;
    }
    let parsed;
    try {
      parsed = parseArgs({
        args: joinNegativeValues(rest, command.options),
        options: command.options,
        allowPositionals: Boolean(command.positionals),
        strict: true,
      });
    } catch (e) {
      throw new AppError(
        'USAGE',
        `${describeParseError(e as Error, command.options)}; run \`carprice ${command.name} --help\``,
        { cause: e },
      );
    }
    const logger = ctxOverrides.logger ?? (await createLogger(env, stderr));
    const ctx: CommandContext = {
      cwd: ctxOverrides.cwd ?? process.cwd(),
      env,
      stdout,
      stderr,
      logger,
      signal: ctxOverrides.signal ?? controller.signal,
    };
    const code = await command.run(parsed as never, ctx);
    // a failed last write (stdout on a full disk) must not pass for success
    const failed = ctxOverrides.stdout ? undefined : outputFailure(process.stdout);
    if (failed) throw failed;
    return code ?? 0;
  } catch (e) {
    if (isAppError(e)) {
      stderr.write(`carprice: ${e.message}\n`);
      return exitCodeOf(e.code);
    }
    // the reader of our output went away (`carprice predict ... | head`): stop quietly
    if ((e as NodeJS.ErrnoException)?.code === 'EPIPE') return 0;
    const sys = systemErrorLine(e);
    if (sys) {
      stderr.write(`carprice: ${sys}\n`);
      return exitCodeOf('FILE_UNWRITABLE');
    }
    const err = e as Error;
    stderr.write(
      `carprice: internal error: ${err?.stack ?? String(e)}\nPlease report this with the command you ran.\n`,
    );
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * `--rows -5`: node's parseArgs reads `-5` as a flag and reports an "ambiguous" argument;
 * a string option followed by a negative number takes it as its value, so the command's
 * own check can say what is wrong with it.
 */
export function joinNegativeValues(args: readonly string[], options: OptionSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--([^=]+)$/.exec(args[i]);
    if (m && options[m[1]]?.type === 'string' && i + 1 < args.length && /^-(\d|\.\d)/.test(args[i + 1])) {
      out.push(`--${m[1]}=${args[i + 1]}`);
      i++;
    } else out.push(args[i]);
  }
  return out;
}

/** The known flag closest to `flag` (edit distance <= 3 or a prefix), if any. */
export function nearestFlag(flag: string, options: OptionSpec): string | undefined {
  const near = nearestName(flag.replace(/^-+/, '').split('=')[0], [...Object.keys(options), 'help']);
  return near && `--${near}`;
}

function describeParseError(e: Error, options: OptionSpec): string {
  const first = e.message.split('\n')[0];
  const unknown = /^Unknown option '([^']+)'/.exec(first);
  if (unknown) {
    const near = nearestFlag(unknown[1], options);
    return `unknown flag ${unknown[1]}${near ? ` (did you mean ${near}?)` : ''}`;
  }
  return first;
}

/** One line for a system error (errno) that reached the top: what failed, on which path. */
function systemErrorLine(e: unknown): string | undefined {
  const x = e as NodeJS.ErrnoException;
  if (!x || typeof x.code !== 'string' || !/^E[A-Z]+$/.test(x.code) || typeof x.syscall !== 'string') return undefined;
  const what = x.path ? `${x.syscall} ${x.path}` : x.syscall;
  return `cannot ${what}: ${x.message.replace(/^E[A-Z]+: /, '').split(',')[0]} (${x.code})`;
}

function isEntrypoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntrypoint()) {
  applyProcessDefaults();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`carprice: internal error: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
