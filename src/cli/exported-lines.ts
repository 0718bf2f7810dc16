import type { SessionEvent } from '../events/session-event.js';
import type { DecodedLine } from '../store/file/worker-log-read.js';
import { safeJsonText } from '../domain/visible-text.js';

/*
 * The LinePacker of `export --format ndjson` (see worker-log-read.ts): a decoding worker loads
 * this module, so the line each event is exported as is made there too, beside its decoding.
 */

/**
 * An event's line as `export --format ndjson` writes it: its JSON as stored (or as it
 * serializes, when it was upcast), made safe for a terminal (see domain/visible-text.ts). Not
 * ndjson's serializer: it guards against cycles with a replacer called on every key, which took
 * 4 of the 10 seconds of exporting a 392 MB log; events have no cycles.
 */
export function exportedLine(event: SessionEvent, json: string | undefined): string {
  return safeJsonText(json ?? JSON.stringify(event));
}

/**
 * Appends `decoded` to `packed`: `false, reason` for a line that is not an event, else `true`,
 * what the scan's order checks read (`seq`, `txSize`) and the exported line. Nothing else of
 * the event crosses between threads: the export writes the line, and reads nothing more.
 */
export function packDecodedLine(decoded: DecodedLine, packed: unknown[]): void {
  if (!decoded.ok) return void packed.push(false, decoded.reason);
  const { event } = decoded;
  packed.push(true, event.seq, event.txSize, exportedLine(event, decoded.json));
}

/**
 * The lines {@link packDecodedLine} packed: each event holding only its `seq` and `txSize`,
 * with its exported line as its `json`. Never folded, passed on or shown as an event.
 */
export function unpackDecodedLines(packed: unknown[]): DecodedLine[] {
  const lines: DecodedLine[] = [];
  for (let i = 0; i < packed.length; ) {
    if (packed[i++] === false) {
      lines.push({ ok: false, reason: packed[i++] as string });
      continue;
    }
    const seq = packed[i++] as number;
    const txSize = packed[i++] as number | undefined;
    const json = packed[i++] as string;
    lines.push({ ok: true, event: (txSize === undefined ? { seq } : { seq, txSize }) as SessionEvent, json });
  }
  return lines;
}
