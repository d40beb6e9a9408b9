#!/usr/bin/env node
/**
 * The carprice CLI entrypoint: parse -> dispatch -> one catch -> exit code.
 * Results go to stdout, logs and errors to stderr.
 */
import { parseArgs } from 'node:util';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AppError, exitCodeOf, isAppError } from '../core/errors.js';
import { readEnv } from '../config/env.js';
import { createLogger } from './logger.js';
import { commands } from './commands/index.js';
import type { Command, CommandContext, Output } from './command.js';

function out(stream: NodeJS.WriteStream): Output {
  return {
    write: (t: string) => void stream.write(t),
    get isTTY() {
      return Boolean(stream.isTTY);
    },
  };
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
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    stdout.write(overview());
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    stdout.write('carprice 0.1.0\n');
    return 0;
  }
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    stderr.write(`\ncarprice: ${sig} received, stopping cleanly (again to force)\n`);
    controller.abort(new AppError('INTERRUPTED', `interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
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
      parsed = parseArgs({ args: rest, options: command.options, allowPositionals: Boolean(command.positionals), strict: true });
    } catch (e) {
      throw new AppError('USAGE', `${(e as Error).message.split('\n')[0]}; run \`carprice ${command.name} --help\``, { cause: e });
    }
    const logger = ctxOverrides.logger ?? (await createLogger(env));
    const ctx: CommandContext = {
      cwd: ctxOverrides.cwd ?? process.cwd(),
      env,
      stdout,
      stderr,
      logger,
      signal: ctxOverrides.signal ?? controller.signal,
    };
    const code = await command.run(parsed as never, ctx);
    return code ?? 0;
  } catch (e) {
    if (isAppError(e)) {
      stderr.write(`carprice: ${e.message}\n`);
      return exitCodeOf(e.code);
    }
    const err = e as Error;
    stderr.write(`carprice: internal error: ${err?.stack ?? String(e)}\nPlease report this with the command you ran.\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
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
