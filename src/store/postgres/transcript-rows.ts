import { conversationMessages } from '../../domain/conversation.js';
import { indexedTerms } from '../../domain/search-words.js';

/** A row of the `transcript_messages` table, as the client computes it. */
export interface MessageRow {
  message: number;
  role: string;
  text: string;
  /** The message's distinct words as tsvector text, or null when they would not fit one. */
  words: string | null;
}

/** A tsvector holds at most 1 MiB; past this many bytes of words a message is left unindexed. */
const MAX_WORD_BYTES = 900_000;

/** The rows of a transcript's messages. PostgreSQL text holds no NUL and no lone surrogate: each is stored as U+FFFD. */
export function messageRows(content: Buffer): MessageRow[] {
  return conversationMessages(content).map((message, index) => ({
    message: index,
    role: storable(message.role),
    text: storable(message.text),
    words: tsvectorText(indexedTerms(message.text)),
  }));
}

/** Words as the text of a tsvector of lexemes (quoted, so none is read as an operator or a weight). */
export function tsvectorText(words: Iterable<string>): string | null {
  const lexemes: string[] = [];
  let bytes = 0;
  for (const word of words) {
    bytes += Buffer.byteLength(word) + 8;
    if (bytes > MAX_WORD_BYTES) return null;
    lexemes.push(quoted(word));
  }
  return lexemes.join(' ');
}

/** Words as a tsquery that holds when every one of them is a lexeme of the tsvector. */
export function tsqueryText(words: readonly string[]): string {
  return words.map(quoted).join(' & ');
}

function quoted(word: string): string {
  return `'${word.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function storable(text: string): string {
  return text.replace(UNSTORABLE, '\ufffd');
}
