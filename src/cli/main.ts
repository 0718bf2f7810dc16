#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { isSessionError, storageError } from '../errors.js';
import { UsageError, type Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import { safeLine, safeText } from '../domain/visible-text.js';

const GLOBAL_OPTIONS = {
  dir: { type: 'string', default: '.ai/sessions' },
  store: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function usage(): string {
  return [
    'miyabi-sessions — replay, audit and drive agent session stores',
    '',
    'usage: miyabi-sessions <command> [options] [--dir <store>] [--json]',
    '',
    ...COMMANDS.map((c) => `  ${c.usage}\n      ${c.summary}`),
    '',
    'global options: --dir <store> (default .ai/sessions), --store postgres://…[#schema] (PostgreSQL instead of the file log),',
    '                --json (machine-readable output), --help',
    'exit codes: 0 ok, 1 findings (audit/replay), 2 usage, 3 not found, 4 refused, 5 corrupt log, 6 store unavailable',
  ].join('\n');
}

function commandHelp(command: Command): string {
  const options = Object.entries(command.options ?? {}).map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}`);
  return [`usage: miyabi-sessions ${command.usage}`, '', command.summary, ...(options.length > 0 ? ['', 'options:', ...options] : []), ...(command.example ? ['', 'example output:', command.example] : [])].join('\n');
}

/** Runs the CLI with these arguments; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`miyabi-sessions: unknown command "${safeLine(name)}"\n\n${usage()}\n`);
    return EXIT.USAGE;
  }
  try {
    const parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
    const values = parsed.values as Record<string, string | boolean | undefined>;
    const { positionals } = parsed;
    if (values.help === true) {
      process.stdout.write(`${commandHelp(command)}\n`);
      return EXIT.OK;
    }
    return await command.run({ dir: values.dir as string, json: values.json === true, values, positionals });
  } catch (error) {
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`miyabi-sessions ${name}: ${safeText((error as Error).message)}\nusage: miyabi-sessions ${command.usage}\n`);
      return EXIT.USAGE;
    }
    // A file the command was told to write that the system refuses (a missing directory, a full
    // disk): the command's own failure, said as one, not an internal error with a stack.
    const failure = isFileSystemError(error) ? storageError(error.syscall, error.path, error) : error;
    if (isSessionError(failure)) {
      process.stderr.write(`miyabi-sessions ${name}: ${failure.code}: ${safeText(failure.message)}\n`);
      return exitCodeOf(failure.code);
    }
    process.stderr.write(`miyabi-sessions ${name}: internal error: ${safeText((error as Error).stack ?? String(error))}\n`);
    return EXIT.INTERNAL;
  }
}

/** An error of a file system call, naming the call and the path (Node's own). */
function isFileSystemError(error: unknown): error is NodeJS.ErrnoException & { syscall: string; path: string } {
  const e = error as NodeJS.ErrnoException | null;
  return e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string' && typeof e.path === 'string';
}

// Output piped into `head` and the like: a closed pipe ends the command quietly, as in any Unix tool.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = await main(process.argv.slice(2));
