import { conversationMessages } from '../domain/conversation.js';
import type { Session } from '../domain/session.js';
import type { TranscriptStore } from '../store/transcript-store.js';

/** A stored transcript as the lines a person reads: "role: text" a message (see conversationMessages). */
export function transcriptMessages(content: Buffer | string): string[] {
  return conversationMessages(content).map((message) => `${message.role}: ${message.text}`);
}

/** The parsed entries of a transcript (what `--json` prints). */
export function transcriptEntries(content: Buffer | string): unknown[] {
  return content.toString().split('\n').filter((line) => line.trim().length > 0).flatMap((line) => {
    try {
      return [JSON.parse(line) as unknown];
    } catch {
      return [];
    }
  });
}

/** The stored conversations of these sessions (those the log records as stored), as readable messages, by session id. */
export async function storedConversations(transcripts: TranscriptStore, sessions: ReadonlyMap<string, Session>): Promise<Map<string, string[]>> {
  const conversations = new Map<string, string[]>();
  for (const session of sessions.values()) {
    if (session.agent?.transcript === undefined || !('sha256' in session.agent.transcript)) continue;
    const content = await transcripts.load(session.id).catch(() => null);
    if (content !== null) conversations.set(session.id, transcriptMessages(content));
  }
  return conversations;
}
