import { UsageError } from './command.js';

/** HTTP headers given on the command line as `NAME=VALUE` (an API key for an OTLP endpoint); a usage error names `option` for a bad one. */
export function headersOf(values: readonly string[], option: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0 || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(value.slice(0, at).trim())) throw new UsageError(`${option} must be NAME=VALUE, got "${value}"`);
    headers[value.slice(0, at).trim()] = value.slice(at + 1);
  }
  return headers;
}
