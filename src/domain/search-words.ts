/**
 * The terms a conversation search indexes and looks for: words (runs of letters, digits and
 * `_`, lower-cased) and each pair of words that follow each other (`"build failed"`), so that a
 * phrase of common words said nowhere together is ruled out by the index, not by reading every
 * conversation that holds the words. Both stores index these and nothing else, so a search
 * means the same on files and on PostgreSQL. A word is indexed by its first
 * {@link INDEXED_WORD_LENGTH} characters (an index entry stays small); the match itself is
 * checked on the whole text.
 */
const WORD = /[\p{L}\p{N}_]+/gu;

/** How many characters of a word the index keeps. */
export const INDEXED_WORD_LENGTH = 64;

/** A character that belongs to a word (a search's boundaries are where these stop). */
export const WORD_CHARACTER = /[\p{L}\p{N}_]/u;

/** The distinct words of `text`, as the index keeps them. */
export function indexedWords(text: string, into: Set<string> = new Set()): Set<string> {
  for (const match of text.matchAll(WORD)) into.add(indexedWord(match[0]));
  return into;
}

/**
 * The distinct terms of `text` as the index keeps them: its words and its pairs of adjacent
 * words (`first second`: a space never occurs in a word). Every match of a phrase holds every
 * term of the phrase: its words are whole words of the text, and the words it puts side by side
 * are side by side there.
 */
export function indexedTerms(text: string, into: Set<string> = new Set()): Set<string> {
  let previous: string | null = null;
  for (const match of text.matchAll(WORD)) {
    const word = indexedWord(match[0]);
    into.add(word);
    if (previous !== null) into.add(`${previous} ${word}`);
    previous = word;
  }
  return into;
}

/** A word as the index keeps it: lower-cased, cut to {@link INDEXED_WORD_LENGTH} characters. */
export function indexedWord(word: string): string {
  const lower = word.toLowerCase();
  return lower.length <= INDEXED_WORD_LENGTH ? lower : Array.from(lower).slice(0, INDEXED_WORD_LENGTH).join('');
}
