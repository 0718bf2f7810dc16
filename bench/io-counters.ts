import { readFileSync } from 'node:fs';

/** Bytes this process has caused to be written to storage so far (`write_bytes` of /proc/self/io). */
export function bytesWrittenByProcess(): number {
  const match = /^write_bytes: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  if (match === null) throw new Error('/proc/self/io has no write_bytes: write amplification cannot be measured here');
  return Number(match[1]);
}
