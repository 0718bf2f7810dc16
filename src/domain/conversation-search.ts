import { z } from 'zod';
import { SessionError } from '../errors.js';
import { AgentNameSchema, InstantSchema, UuidSchema } from './limits.js';
import { indexedTerms, indexedWords, WORD_CHARACTER } from './search-words.js';

/** The most hits one page of a search may hold. */
export const MAX_SEARCH_PAGE = 100;

/** Zod schema of a {@link ConversationSearch}. */
export const ConversationSearchSchema = z.strictObject({
  text: z.string().max(1024).refine((text) => indexedWords(text).size > 0, { message: 'must hold at least one word (letters or digits)' }),
  agent: AgentNameSchema.optional(),
  issue: z.number().int().positive().optional(),
  since: InstantSchema.optional(),
  limit: z.number().int().positive().max(MAX_SEARCH_PAGE).default(20),
  after: z.string().max(512).nullable().optional(),
});

/**
 * What to search the stored conversations for. `text` is plain text (no patterns, no
 * operators): a message matches when it holds it, ignoring case and treating any run of white
 * space as one, starting and ending on word boundaries (`deploy` finds "Deploy it", not
 * "deployment"). `agent`, `issue` and `since` (created at or after) narrow the sessions;
 * `limit` hits a page (default 20, at most {@link MAX_SEARCH_PAGE}); `after` is the `next` of
 * the page before.
 */
export type ConversationSearch = z.input<typeof ConversationSearchSchema>;

/** A search as {@link parseConversationSearch} returns it. */
export type ParsedConversationSearch = z.output<typeof ConversationSearchSchema>;

/** Checks a search; throws `INVALID_INPUT` naming the field. */
export function parseConversationSearch(search: ConversationSearch): ParsedConversationSearch {
  const parsed = ConversationSearchSchema.safeParse(search);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SessionError('INVALID_INPUT', `search.${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/** Where a match was found in a message's text (UTF-16 offsets). */
export interface TextMatch {
  start: number;
  end: number;
}

/** A search's text, ready to look for: the words an index must hold, and the test of a message. */
export interface PhraseFinder {
  /** The distinct terms (words and pairs of adjacent words, as indexed) every matching message holds. */
  words: string[];
  /** The first match in `text`, or null. */
  find(text: string): TextMatch | null;
}

/** The finder of a search's text (see {@link ConversationSearch} for what matches). */
export function phraseFinder(text: string): PhraseFinder {
  const trimmed = text.trim();
  const body = trimmed.split(/\s+/).map(escapeRegExp).join('\\s+');
  const first = Array.from(trimmed)[0] ?? '';
  const last = Array.from(trimmed).at(-1) ?? '';
  const pattern = new RegExp(`${WORD_CHARACTER.test(first) ? '(?<![\\p{L}\\p{N}_])' : ''}${body}${WORD_CHARACTER.test(last) ? '(?![\\p{L}\\p{N}_])' : ''}`, 'iu');
  return {
    words: [...indexedTerms(trimmed)],
    find(message) {
      const match = pattern.exec(message);
      return match === null ? null : { start: match.index, end: match.index + match[0].length };
    },
  };
}

function escapeRegExp(text: string): string {
  // Only what is special outside a class: with the `u` flag, any other escape is an error.
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/** A match with some text either side, cut at about `context` characters (never inside a surrogate pair). */
export interface Excerpt {
  before: string;
  match: string;
  after: string;
}

/** The match in `text` with about `context` characters either side; `…` marks where it was cut. */
export function excerptOf(text: string, match: TextMatch, context = 80): Excerpt {
  let from = Math.max(0, match.start - context);
  let to = Math.min(text.length, match.end + context);
  if (from > 0 && isLowSurrogate(text.charCodeAt(from))) from -= 1;
  if (to < text.length && isLowSurrogate(text.charCodeAt(to))) to += 1;
  return {
    before: `${from > 0 ? '…' : ''}${text.slice(from, match.start)}`,
    match: text.slice(match.start, match.end),
    after: `${text.slice(match.end, to)}${to < text.length ? '…' : ''}`,
  };
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Where a page of hits stopped: the session and message of its last hit. */
export interface SearchPosition {
  sessionId: string;
  message: number;
}

/** A position as the opaque text a page's `next` holds. */
export function encodeSearchCursor(position: SearchPosition): string {
  return Buffer.from(JSON.stringify([position.sessionId, position.message])).toString('base64url');
}

/** The position of a page's `next` text; throws `INVALID_INPUT` for text this library did not write. */
export function decodeSearchCursor(text: string): SearchPosition {
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    fields = null;
  }
  const parsed = z.tuple([UuidSchema, z.number().int().min(0)]).safeParse(fields);
  if (!parsed.success) throw new SessionError('INVALID_INPUT', 'search.after: not a cursor this library wrote');
  return { sessionId: parsed.data[0].toLowerCase(), message: parsed.data[1] };
}
