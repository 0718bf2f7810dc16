import { createHash } from 'node:crypto';
import { validate as isUuid } from 'uuid';
import { SessionError } from '../errors.js';
import type { SearchPosition } from '../domain/conversation-search.js';

/** A stored transcript's size and SHA-256 (hex). */
export interface TranscriptDigest {
  bytes: number;
  sha256: string;
}

/**
 * Where a store keeps the agents' conversations (Claude Code transcripts, JSONL), one per
 * session, so a handoff can fork a conversation on whichever host runs the child.
 */
export interface TranscriptStore {
  /** Stores a session's transcript, replacing any; resolves with its size and SHA-256. */
  save(sessionId: string, content: Buffer): Promise<TranscriptDigest>;
  /** The stored transcript, or null when there is none. */
  load(sessionId: string): Promise<Buffer | null>;
  /** Every session id with a stored transcript. */
  list(): Promise<string[]>;
  /** A file on this host already holding the stored transcript, if the store keeps it in one. */
  fileOf?(sessionId: string): string;
  /**
   * A search's candidates: messages of stored conversations that may hold every one of `words`
   * (words and pairs of adjacent words, as the index keeps them: see `indexedTerms`), the most recently stored conversation first
   * and its messages in order, from after `after`; only those of sessions `accept` keeps (asked
   * a batch of ids at a time, before their conversations are read). The caller checks each
   * message's text: an index answers "maybe". Conversations stored before the index existed are
   * indexed first.
   */
  search(words: readonly string[], after: SearchPosition | null, accept: (ids: string[]) => Promise<Set<string>>): Promise<TranscriptCandidates>;
}

/** What a store answers a search with. */
export interface TranscriptCandidates {
  /** How many stored conversations the search looks through. */
  searchable: number;
  /** The candidate messages, read as they are asked for. */
  messages: AsyncIterable<CandidateMessage>;
}

/** A message of a stored conversation, as a search looks at it. */
export interface CandidateMessage {
  sessionId: string;
  /** Its place in the conversation, from 0 (as `conversationMessages` lists them). */
  message: number;
  role: string;
  text: string;
}

/** The digest of some transcript bytes. */
export function digestOf(content: Buffer): TranscriptDigest {
  return { bytes: content.length, sha256: createHash('sha256').update(content).digest('hex') };
}

/** A session id about to become part of a file name or a key: it must be a UUID. */
export function transcriptKey(sessionId: string): string {
  if (typeof sessionId !== 'string' || !isUuid(sessionId)) throw new SessionError('INVALID_INPUT', `session id must be a UUID, not ${JSON.stringify(String(sessionId)).slice(0, 80)}`);
  return sessionId.toLowerCase();
}
