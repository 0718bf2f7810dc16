import type { Session } from '../domain/session.js';
import type { TranscriptStore } from '../store/transcript-store.js';

/**
 * A stored transcript (Claude Code's JSONL) as the messages a person reads: "role: text", tool
 * calls and their results in brackets. Lines that are not messages (summaries, metadata) or
 * not JSON are left out.
 */
export function transcriptMessages(content: Buffer | string): string[] {
  const messages: string[] = [];
  for (const line of content.toString().split('\n')) {
    if (line.trim().length === 0) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const text = messageText(entry);
    if (text !== null) messages.push(text);
  }
  return messages;
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

function messageText(entry: Record<string, unknown>): string | null {
  const message = entry['message'] as { role?: unknown; content?: unknown } | undefined;
  if ((entry['type'] !== 'user' && entry['type'] !== 'assistant') || message === undefined) return null;
  const role = String(message.role ?? entry['type']);
  const content = message.content;
  if (typeof content === 'string') return `${role}: ${content}`;
  if (!Array.isArray(content)) return null;
  const parts = content.map((block: { type?: string; text?: string; name?: string; input?: unknown; content?: unknown }) => {
    if (block.type === 'text') return block.text ?? '';
    if (block.type === 'tool_use') return `[tool ${block.name ?? '?'}: ${JSON.stringify(block.input)}]`;
    if (block.type === 'tool_result') return `[tool result: ${typeof block.content === 'string' ? block.content : JSON.stringify(block.content)}]`;
    return `[${block.type ?? 'block'}]`;
  });
  return `${role}: ${parts.join('\n')}`;
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
