import type { Session } from '../domain/session.js';

/**
 * The prompt an agent is started with: its task, where it stands in the pipeline, and what the
 * agents before it produced, followed by the structured context as JSON so a tool-using agent
 * can read it exactly.
 */
export function buildPrompt(session: Session): string {
  const { context } = session;
  const issue = context.issueNumber === null ? '' : ` on GitHub issue #${context.issueNumber}`;
  const lines = [`You are ${session.agentName}, working${issue} in the ${context.currentPhase} phase.`, `Task: ${session.purpose}`];
  if (context.worktreePath !== null) lines.push(`Work in: ${context.worktreePath}`);
  if (context.previousResults.length > 0) {
    lines.push('', 'Results of the agents before you:');
    for (const [i, r] of context.previousResults.entries()) {
      const who = r.agentName === undefined ? `agent ${i + 1}` : r.agentName;
      lines.push(`${i + 1}. ${who} ${r.success ? 'succeeded' : 'failed'}: ${r.output}`);
    }
  }
  lines.push('', 'Session context (JSON):', JSON.stringify({ sessionId: session.id, parentSession: session.parentSession, ...context }, null, 2));
  return lines.join('\n');
}
