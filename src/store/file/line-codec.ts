import { crc32 } from 'node:zlib';
import { EVENT_TYPES, type SessionEvent } from '../../events/session-event.js';
import { checkedEvent, schemaIssuesText } from '../../events/schema-refusal.js';
import { RENUMBERED_VERSIONS, upcast } from '../../events/upcast.js';
import { EVENT_SCHEMA_VERSION } from '../../events/event-envelope.js';

const CRC_FIELD = ',"crc":';

/**
 * Encodes one event as a log line: its JSON with a trailing `"crc"` field holding the CRC-32 of
 * the JSON without it, then `\n`. The checksum lets the reader tell a flipped byte from a valid
 * event even where the damage still parses as JSON.
 */
export function encodeEventLine(event: SessionEvent): string {
  const body = JSON.stringify(event);
  return `${body.slice(0, -1)}${CRC_FIELD}${crc32(body)}}\n`;
}

/** What decoding one line gave: the event, or the reason it is not one. */
export type DecodedLine = { ok: true; event: SessionEvent; json?: string } | { ok: false; reason: string };

/**
 * How much a reader checks. `'schema'` validates every event against its zod schema (the audit,
 * and any event of an older schema version). `'checksum'` trusts an event whose CRC matches and
 * whose envelope looks right: writers validate every event before it is written, and the CRC
 * proves the bytes are the ones written — so a replay skips the costliest step.
 */
export type Verification = 'schema' | 'checksum';

const KNOWN_TYPES = new Set(EVENT_TYPES);

/** Decodes one log line (without its `\n`): checksum, JSON, upcast, schema, in that order. */
// Stryker disable next-line StringLiteral: equivalent, any default but 'checksum' validates the schema.
export function decodeEventLine(text: string, verify: Verification = 'schema'): DecodedLine {
  const field = checksumField(text);
  if (field === -1) return { ok: false, reason: 'no checksum field at the end of the line' };
  const body = `${text.slice(0, field)}}`;
  if (crc32(body) !== Number(text.slice(field + CRC_FIELD.length, -1))) return { ok: false, reason: 'checksum mismatch: the line was altered or torn' };
  // The body ends with `}`: JSON that parses is an object.
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(body) as Record<string, unknown>;
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  if (verify === 'checksum' && looksCurrent(raw)) {
    // The line's JSON is the event's, as written, when it is of this version: a reader that
    // passes events on (export) need not serialize them again.
    const json = raw['schemaVersion'] === EVENT_SCHEMA_VERSION ? body : undefined;
    // An event of an earlier version is one of this version as it stands (see upcast.ts): only its number changes.
    raw['schemaVersion'] = EVENT_SCHEMA_VERSION;
    return json === undefined ? { ok: true, event: raw as unknown as SessionEvent } : { ok: true, event: raw as unknown as SessionEvent, json };
  }
  const parsed = checkedEvent(upcast(raw));
  if (!parsed.success) return { ok: false, reason: schemaIssuesText(parsed.error) };
  return { ok: true, event: parsed.data };
}

/**
 * Where `,"crc":<digits>}` starts at the end of the line, or -1: what the pattern
 * `/,"crc":(\d{1,10})\}$/` finds, without a regex match per line of a replay.
 */
function checksumField(text: string): number {
  if (text.charCodeAt(text.length - 1) !== CLOSE_BRACE) return -1;
  let i = text.length - 2;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, charCodeAt(-1) is NaN (no digit), and a line whose first character is a digit has no room for the field before it.
  while (i >= 0 && isDigit(text.charCodeAt(i))) i -= 1;
  const digits = text.length - 2 - i;
  if (digits < 1 || digits > 10) return -1;
  const field = i + 1 - CRC_FIELD.length;
  // Stryker disable next-line ConditionalExpression: equivalent, startsWith clamps a negative position to 0, where the field cannot start when it would start before it.
  return field >= 0 && text.startsWith(CRC_FIELD, field) ? field : -1;
}

const CLOSE_BRACE = 0x7d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

function looksCurrent(e: Record<string, unknown>): boolean {
  return (
    // Stryker disable next-line StringLiteral: equivalent in what it decodes, an earlier version's event then goes the schema's way (upcast), only slower.
    (e['schemaVersion'] === EVENT_SCHEMA_VERSION || RENUMBERED_VERSIONS.has(e['schemaVersion'])) &&
    KNOWN_TYPES.has(e['type'] as SessionEvent['type']) &&
    Number.isSafeInteger(e['seq']) &&
    typeof e['sessionId'] === 'string' &&
    typeof e['id'] === 'string' &&
    typeof e['data'] === 'object' &&
    e['data'] !== null
  );
}
