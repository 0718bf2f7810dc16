import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeBigLog } from '../../bench/big-log.js';
import type { SessionEvent } from '../../src/index.js';
import { encodeEventLine } from '../../src/store/file/line-codec.js';

/*
 * A big log as lines to damage or change one by one, for the tests of reads whose lines worker
 * threads decode in chunks cut at line ends (the audit, the export).
 */

/** The size of the chunks a read hands its workers: damage placed near a multiple of it lies where a chunk ends. */
export const CHUNK = 1024 * 1024;

/** The lines of a log of `events` pipeline events written into `dir` (bench/big-log.ts), without their `\n`. */
export async function bigLogLines(dir: string, events: number): Promise<string[]> {
  await writeBigLog(dir, events, 0.25);
  return (await readFile(join(dir, 'events.ndjson'), 'utf8')).split('\n').slice(0, -1);
}

/** The event a line holds, without its checksum. */
export function eventOf(line: string): SessionEvent {
  const { crc: _, ...event } = JSON.parse(line) as SessionEvent & { crc: number };
  return event as SessionEvent;
}

/** The line of `event`, its checksum right, without its `\n`. */
export function lineOf(event: SessionEvent): string {
  return encodeEventLine(event).slice(0, -1);
}

/** Index of the line holding byte `offset` of the log. */
export function lineAt(lines: string[], offset: number): number {
  let at = 0;
  for (let i = 0; i < lines.length; i += 1) {
    at += Buffer.byteLength(lines[i]!) + 1;
    if (at > offset) return i;
  }
  throw new Error(`no line at ${offset}`);
}
