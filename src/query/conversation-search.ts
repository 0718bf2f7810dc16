import {
  decodeSearchCursor,
  encodeSearchCursor,
  excerptOf,
  parseConversationSearch,
  phraseFinder,
  type ConversationSearch,
  type Excerpt,
} from '../domain/conversation-search.js';
import type { Phase } from '../domain/phase.js';
import type { Session } from '../domain/session.js';
import type { SessionStatus } from '../domain/session-status.js';
import { parseSessionQuery, sessionMatcher } from '../projections/session-query.js';
import type { TranscriptStore } from '../store/transcript-store.js';
import { FileTranscripts } from '../store/file/file-transcripts.js';
import type { PostgresEventStore } from '../store/postgres/postgres-event-store.js';
import { readFileSessions, readPostgresSessions, type SessionReads } from './session-reads.js';

/** A message that matched a search, and where it belongs. */
export interface SearchHit {
  sessionId: string;
  /** The id of the root session of its pipeline. */
  pipeline: string;
  agentName: string;
  issue: number | null;
  phase: Phase;
  status: SessionStatus;
  /** The message's place in its conversation, from 0 (as `transcript` lists them). */
  message: number;
  role: string;
  /** The first match in the message, with some text either side (untrusted: agents wrote it). */
  excerpt: Excerpt;
}

/** One page of a search. */
export interface SearchPage {
  /** Most recently stored conversation first, and in order within one. */
  hits: SearchHit[];
  /** The cursor of the next page (`after`), or null on the last. */
  next: string | null;
  /** How many stored conversations were searched. */
  searched: number;
  /** How many sessions the store holds: those without a stored conversation were not searched. */
  sessions: number;
}

/**
 * One page of the messages of stored conversations that hold `search.text` (see
 * {@link ConversationSearch}). Only conversations the store kept are searched: a session whose
 * agent is still running, whose conversation was not stored (turned off) or was over the size
 * limit has nothing to find, and `searched` against `sessions` says how many were. The store's
 * index picks the candidates; each is checked on its text, so what an index gets wrong costs
 * time, never a wrong hit. Throws `INVALID_INPUT` for a bad search or cursor.
 */
export async function searchConversations(reads: SessionReads, transcripts: TranscriptStore, search: ConversationSearch): Promise<SearchPage> {
  const parsed = parseConversationSearch(search);
  const finder = phraseFinder(parsed.text);
  const after = parsed.after == null ? null : decodeSearchCursor(parsed.after);
  const matches = sessionMatcher(parseSessionQuery({ agent: parsed.agent, issue: parsed.issue, createdSince: parsed.since }));
  // The sessions of the batch being read: candidates come a batch at a time, after `accept`.
  let batch = new Map<string, Session>();
  const accept = async (ids: string[]) => {
    batch = new Map([...(await reads.getMany(ids))].filter(([, session]) => matches === null || matches(session)));
    return new Set(batch.keys());
  };
  const hits: Array<Omit<SearchHit, 'pipeline'>> = [];
  let more = false;
  const candidates = await transcripts.search(finder.words, after, accept);
  for await (const candidate of candidates.messages) {
    const match = finder.find(candidate.text);
    if (match === null) continue;
    if (hits.length === parsed.limit) {
      more = true;
      break;
    }
    const session = batch.get(candidate.sessionId)!;
    hits.push({
      sessionId: candidate.sessionId,
      agentName: session.agentName,
      issue: session.context.issueNumber,
      phase: session.context.currentPhase,
      status: session.status,
      message: candidate.message,
      role: candidate.role,
      excerpt: excerptOf(candidate.text, match),
    });
  }
  const roots = new Map<string, string>();
  for (const id of new Set(hits.map((hit) => hit.sessionId))) roots.set(id, (await reads.rootOf(id)) ?? id);
  const last = hits.at(-1);
  return {
    hits: hits.map((hit) => ({ ...hit, pipeline: roots.get(hit.sessionId)! })),
    next: more && last !== undefined ? encodeSearchCursor({ sessionId: last.sessionId, message: last.message }) : null,
    searched: candidates.searchable,
    sessions: await reads.size(),
  };
}

/**
 * {@link searchConversations} on a store: the file store at a directory, or a PostgreSQL store
 * (which stays open). Reads without writing, but for indexing conversations stored by an
 * earlier version.
 */
export async function searchStore(store: string | PostgresEventStore, search: ConversationSearch): Promise<SearchPage> {
  if (typeof store === 'string') return readFileSessions(store, (reads) => searchConversations(reads, new FileTranscripts(store), search));
  return readPostgresSessions(store, (reads) => searchConversations(reads, store.transcripts, search));
}
