/** One message of a stored conversation: who said it, and its text as a person reads it. */
export interface ConversationMessage {
  role: string;
  /** The text, with tool calls and their results in brackets. */
  text: string;
}

/**
 * A stored transcript (Claude Code's JSONL) as the messages a person reads: tool calls and
 * their results in brackets. Lines that are not messages (summaries, metadata) or not JSON are
 * left out. The transcript, a search and a report all read a conversation through this.
 */
export function conversationMessages(content: Buffer | string): ConversationMessage[] {
  const messages: ConversationMessage[] = [];
  for (const line of content.toString().split('\n')) {
    if (line.trim().length === 0) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (entry === null || typeof entry !== 'object') continue;
    const message = messageOf(entry);
    if (message !== null) messages.push(message);
  }
  return messages;
}

function messageOf(entry: Record<string, unknown>): ConversationMessage | null {
  const message = entry['message'] as { role?: unknown; content?: unknown } | undefined;
  if ((entry['type'] !== 'user' && entry['type'] !== 'assistant') || message === undefined || message === null) return null;
  const role = String(message.role ?? entry['type']);
  const content = message.content;
  if (typeof content === 'string') return { role, text: content };
  if (!Array.isArray(content)) return null;
  const parts = content.map((block: { type?: string; text?: string; name?: string; input?: unknown; content?: unknown } | null) => {
    if (block === null || typeof block !== 'object') return '[block]';
    if (block.type === 'text') return block.text ?? '';
    if (block.type === 'tool_use') return `[tool ${block.name ?? '?'}: ${JSON.stringify(block.input)}]`;
    if (block.type === 'tool_result') return `[tool result: ${typeof block.content === 'string' ? block.content : JSON.stringify(block.content)}]`;
    return `[${block.type ?? 'block'}]`;
  });
  return { role, text: parts.join('\n') };
}
