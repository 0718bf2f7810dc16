/*
 * `list --all --json` at 250,000 sessions spent most of its time parsing each stored record and
 * serializing the session made from it (8.9 s for 251 MB). The record already is JSON, and the
 * session's JSON differs from it only in its keys' spelling (snake_case → camelCase, with
 * `error_message` → `error`) and in leaving out the two keys the original writes as `null`. So
 * the record's bytes are rewritten as they are copied, once, without building anything: the
 * session's JSON with its keys in the record's order (JSON's objects have none). A record not of
 * the shape this library writes is left to the parse (the caller's fallback).
 */

import { isAscii } from 'node:buffer';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const UNDERSCORE = 0x5f;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;
const COLON = 0x3a;
const LOWER_N = 0x6e;

const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);
const HANDOFF_TO = bytesOf('handoff_to');
const ERROR_MESSAGE = bytesOf('error_message');
const ERROR = bytesOf('error');
const USAGE = bytesOf('usage');
const NULL = bytesOf('null');

/** The snake_case keys of a record (outside `usage`, whose keys are the agent's and kept as they are) and their session spelling. */
const RENAMED = new Map<string, string>(
  [
    'agent_name', 'issue_number', 'current_phase', 'worktree_path', 'previous_results', 'created_at', 'parent_session',
    'child_sessions', 'handoff_to', 'ended_at', 'retry_of', 'max_retries', 'session_id', 'num_turns', 'duration_ms',
    'total_cost_usd', 'start_time', 'log_file', 'resumed_from', 'started_at', 'finished_at', 'stop_request', 'started_by',
    'ended_by', 'run_cost_usd', 'retry_after', 'budget_usd', 'max_turns', 'approval_timeout_ms',
  ].map((snake) => [snake, snake.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())]),
).set('error_message', 'error');

/** The renamed keys by their length and first letter, each checked byte for byte. */
const BY_SHAPE: Array<Array<{ snake: Uint8Array; camel: Uint8Array }> | undefined> = [];
for (const [snake, camel] of RENAMED) (BY_SHAPE[snake.length * 256 + snake.charCodeAt(0)] ??= []).push({ snake: bytesOf(snake), camel: bytesOf(camel) });

/** The session's spelling of the snake_case key at `bytes[start, end)`; undefined for one this library does not write. */
function camelOf(bytes: Uint8Array, start: number, end: number): Uint8Array | undefined {
  const entries = BY_SHAPE[(end - start) * 256 + bytes[start]!];
  if (entries !== undefined) for (const entry of entries) if (equalAt(bytes, start, end, entry.snake)) return entry.camel;
  return undefined;
}

function equalAt(bytes: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i += 1) if (bytes[start + i] !== word[i]) return false;
  return true;
}

/** Where {@link appendSessionJson} writes: a buffer with room made on demand, and how much of it is written. */
export interface ByteSink {
  /** Bytes written so far. */
  length: number;
  /** The buffer, with room for `bytes` more past `length`. */
  reserve(bytes: number): Buffer;
}

/**
 * Writes the session `id`'s JSON (one line, made safe for a terminal as `safeJsonText` makes
 * it) to `out`, from its record's bytes as sessions.json holds them (checksum-verified). False,
 * with nothing written, for bytes that are not a record of this library's shape for `id`.
 */
export function appendSessionJson(record: Buffer, id: string, out: ByteSink): boolean {
  if (!startsWithId(record, id)) return false;
  const plain = isAscii(record) && record.indexOf(0x7f) === -1;
  // Each byte becomes at most six (`\u00XX` for a two-byte character, or for DEL): room for all.
  const target = out.reserve(plain ? record.length + 1 : record.length * 6 + 1);
  const written = rewrite(record, target, out.length, plain);
  if (written < 0) return false;
  target[written] = 0x0a;
  out.length = written + 1;
  return true;
}

const ID_PREFIX = bytesOf('{"id":"');

function startsWithId(record: Uint8Array, id: string): boolean {
  if (!equalAt(record, 0, ID_PREFIX.length, ID_PREFIX)) return false;
  const at = ID_PREFIX.length;
  if (record[at + id.length] !== QUOTE) return false;
  for (let i = 0; i < id.length; i += 1) if (record[at + i] !== id.charCodeAt(i)) return false;
  return true;
}

/**
 * Rewrites `input` into `out` from `at`; returns the end, or -1 for a record not of the expected
 * shape. A string followed by a colon is a key (a quote inside a string is escaped); the keys of
 * `usage`, the agent's, are kept as they are. `plain`: the record holds nothing to escape (ASCII
 * without DEL).
 */
function rewrite(input: Buffer, out: Buffer, at: number, plain: boolean): number {
  let o = at;
  let i = 0;
  const n = input.length;
  let inUsage = false;
  while (i < n) {
    const c = input[i++]!;
    if (c !== QUOTE) {
      out[o++] = c;
      // Usage's values are numbers: its first closing brace outside a string closes it.
      if (c === CLOSE_OBJECT) inUsage = false;
      continue;
    }
    const open = o;
    out[o++] = QUOTE;
    let snake = false;
    if (plain) {
      for (let b = input[i]!; b !== QUOTE; b = input[i]!) {
        out[o++] = b;
        i += 1;
        if (b === BACKSLASH) out[o++] = input[i++]!;
        else if (b === UNDERSCORE) snake = true;
        if (i >= n) return -1;
      }
    } else {
      for (let b = input[i]!; b !== QUOTE; b = input[i]!) {
        if (b === BACKSLASH) {
          out[o++] = b;
          out[o++] = input[i + 1]!;
          i += 2;
        } else if (b < 0x7f) {
          out[o++] = b;
          i += 1;
          if (b === UNDERSCORE) snake = true;
        } else {
          o = copyEscaped(input, i, out, o);
          i = skipTo;
        }
        if (i >= n) return -1;
      }
    }
    out[o++] = QUOTE;
    i += 1;
    if (input[i] !== COLON || inUsage) continue;
    // A key of this library's, now at out[start, end).
    const start = open + 1;
    const end = o - 1;
    if (!snake) {
      if (end - start !== 5) continue;
      if (equalAt(out, start, end, USAGE)) inUsage = input[i + 1] === OPEN_OBJECT;
      // An earlier version's spelling of the error: the parse decides.
      else if (equalAt(out, start, end, ERROR)) return -1;
      continue;
    }
    if (input[i + 1] === LOWER_N && (equalAt(out, start, end, HANDOFF_TO) || equalAt(out, start, end, ERROR_MESSAGE)) && equalAt(input, i + 1, i + 5, NULL)) {
      // Left out, as the session leaves it out: back over the comma before it, on past `:null`.
      if (out[open - 1] !== COMMA) return -1;
      o = open - 1;
      i += 5;
      continue;
    }
    const camel = camelOf(out, start, end);
    if (camel === undefined) return -1;
    o = start;
    for (let k = 0; k < camel.length; k += 1) out[o++] = camel[k]!;
    out[o++] = QUOTE;
  }
  return o;
}

/** Where {@link copyEscaped} stopped in the input. */
let skipTo = 0;

/**
 * Copies the character at `i` (a byte of 0x7f or more), spelled as a `\u` escape when it is one
 * a terminal acts on (DEL, C1 controls, line and paragraph separators, bidi embeddings,
 * overrides and isolates: what `safeJsonText` of domain/visible-text.ts escapes); sets {@link skipTo} past it.
 */
function copyEscaped(input: Buffer, i: number, out: Uint8Array, o: number): number {
  const b = input[i]!;
  let code = -1;
  let size = 1;
  if (b === 0x7f) code = 0x7f;
  else if (b === 0xc2 && input[i + 1]! >= 0x80 && input[i + 1]! <= 0x9f) {
    code = input[i + 1]!;
    size = 2;
  } else if (b === 0xe2 && input[i + 1] === 0x80 && input[i + 2]! >= 0xa8 && input[i + 2]! <= 0xae) {
    code = 0x2000 + (input[i + 2]! - 0x80);
    size = 3;
  } else if (b === 0xe2 && input[i + 1] === 0x81 && input[i + 2]! >= 0xa6 && input[i + 2]! <= 0xa9) {
    code = 0x2040 + (input[i + 2]! - 0x80);
    size = 3;
  }
  if (code === -1) {
    out[o++] = b;
    skipTo = i + 1;
    return o;
  }
  out[o++] = BACKSLASH;
  out[o++] = 0x75; // u
  const hex = code.toString(16).padStart(4, '0');
  for (let k = 0; k < 4; k += 1) out[o++] = hex.charCodeAt(k);
  skipTo = i + size;
  return o;
}


