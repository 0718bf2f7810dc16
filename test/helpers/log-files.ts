import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The raw bytes of a store's log ('' when missing). */
export async function logBytes(dir: string): Promise<string> {
  return readFile(join(dir, 'events.ndjson'), 'utf8').catch(() => '');
}

/** The decoded lines of a store's log. */
export async function logEvents(dir: string): Promise<Array<Record<string, unknown>>> {
  return (await logBytes(dir))
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
