import type { ParseArgsConfig } from 'node:util';

/** What a command gets: the parsed options and positionals, plus the global ones. */
export interface CommandContext {
  dir: string;
  json: boolean;
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** One CLI command: its name, help, options, and what it does (resolving to an exit code). */
export interface Command {
  name: string;
  summary: string;
  /** Usage after the program name, e.g. `show <id>`. */
  usage: string;
  /** A short example of its output, shown by --help. */
  example?: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  run(context: CommandContext): Promise<number>;
}

/** Throws a usage error (exit 2) with this message. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The string value of an option, or undefined. */
export function stringOption(context: CommandContext, name: string): string | undefined {
  const value = context.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A positional argument that must be there. */
export function requirePositional(context: CommandContext, index: number, what: string): string {
  const value = context.positionals[index];
  if (value === undefined) throw new UsageError(`missing ${what}`);
  return value;
}

/** A whole number option. */
export function intOption(context: CommandContext, name: string): number | undefined {
  const text = stringOption(context, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got "${text}"`);
  return Number(text);
}
