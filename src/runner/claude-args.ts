import type { AgentCaps } from '../domain/agent-caps.js';
import { resolve } from 'node:path';

/** Options that shape the Claude Code command line. */
export interface ClaudeArgOptions {
  model?: string;
  allowedTools?: readonly string[];
  permissionMode?: 'default' | 'acceptEdits' | 'bypassPermissions' | 'plan' | 'dontAsk';
  extraArgs?: readonly string[];
}

/** What the arguments are built from. */
export interface ClaudeArgInput {
  prompt: string;
  sessionId: string;
  resumeFrom: string | null;
  /** A file holding that session's conversation: `--resume <file>` loads it from any cwd and HOME. */
  resumeTranscript?: string | null;
  /** The CLI's own caps for this run (`--max-budget-usd`, `--max-turns`). */
  caps?: AgentCaps;
}

/** Stands in for the prompt wherever the command is recorded or shown. */
export const PROMPT_PLACEHOLDER = '<prompt>';

/**
 * `claude -p <prompt> --output-format stream-json --verbose --session-id <id>`, with
 * `--resume <parent> --fork-session` for a handoff: the fork takes our child id as its own
 * Claude session id, so the child's transcript is found by the same UUID as its session.
 */
export function claudeArgs(input: ClaudeArgInput, options: ClaudeArgOptions): string[] {
  const args = ['-p', input.prompt, '--output-format', 'stream-json', '--verbose'];
  // A transcript's path must be absolute: the CLI takes anything else for a session id or title.
  if (input.resumeFrom !== null) args.push('--resume', input.resumeTranscript == null ? input.resumeFrom : resolve(input.resumeTranscript), '--fork-session');
  args.push('--session-id', input.sessionId);
  if (options.model !== undefined) args.push('--model', options.model);
  if (options.allowedTools !== undefined && options.allowedTools.length > 0) args.push('--allowedTools', options.allowedTools.join(','));
  if (options.permissionMode !== undefined) args.push('--permission-mode', options.permissionMode);
  // The CLI enforces these itself and ends the run with error_max_budget_usd / error_max_turns.
  if (input.caps?.maxBudgetUsd !== undefined) args.push('--max-budget-usd', input.caps.maxBudgetUsd.toFixed(6));
  if (input.caps?.maxTurns !== undefined) args.push('--max-turns', String(input.caps.maxTurns));
  return [...args, ...(options.extraArgs ?? [])];
}
