/** A Claude Code transcript of these messages (JSONL), with a line that is not a message. */
export function transcriptOf(...messages: Array<[role: 'user' | 'assistant', text: string]>): Buffer {
  const lines = messages.map(([role, text]) => JSON.stringify({ type: role, message: { role, content: role === 'user' ? text : [{ type: 'text', text }] } }));
  return Buffer.from(`${[JSON.stringify({ type: 'summary', summary: 'rollback step (a summary, not a message)' }), ...lines].join('\n')}\n`);
}
