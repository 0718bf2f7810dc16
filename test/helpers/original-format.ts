import { z } from 'zod';
import { v4 as uuidv4 } from 'uuid';

/*
 * The original (Rust) session manager's sessions.json, read as its serde structs read it
 * (crates/miyabi-session-manager: session.rs, storage.rs), written independently of the library's
 * own reader so that a test can tell whether the original would read what the library writes:
 * - `Uuid`: a hyphenated UUID string; `DateTime<Utc>`: RFC 3339;
 * - `Option<T>`: the key may be missing or null (serde_derive reads a missing Option as None);
 * - `Vec<T>` and every other field: required; `#[serde(skip)]` fields (previous_results) and
 *   unknown keys: ignored, as serde does without `deny_unknown_fields`.
 */

const Uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
const DateTimeUtc = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/);
const Option = <T extends z.ZodType>(schema: T) => schema.nullable().optional().transform((v) => v ?? null);
const Phase = z.enum(['IssueAnalysis', 'TaskDecomposition', 'WorktreeCreation', 'CodeGeneration', 'Review', 'Test', 'PullRequest', 'CICD', 'Merge']);

/** `ManagedSession` as serde deserializes it. */
export const OriginalManagedSession = z.object({
  id: Uuid,
  agent_name: z.string(),
  purpose: z.string(),
  context: z.object({
    issue_number: Option(z.number().int().nonnegative()),
    current_phase: Phase,
    worktree_path: Option(z.string()),
  }),
  created_at: DateTimeUtc,
  status: z.enum(['Active', 'HandedOff', 'Completed', 'Failed']),
  parent_session: Option(Uuid),
  child_sessions: z.array(Uuid),
  handoff_to: Option(z.string()),
  error_message: Option(z.string()),
});

/** `SessionDatabase` as serde deserializes it. */
export const OriginalSessionDatabase = z.object({ sessions: z.array(OriginalManagedSession), version: z.number().int().nonnegative() });

/** What the original reads from a sessions.json's text (throws as serde would refuse it). */
export function readAsOriginal(text: string): z.infer<typeof OriginalSessionDatabase> {
  return OriginalSessionDatabase.parse(JSON.parse(text));
}

/** One session as the original's `to_string_pretty` writes it (every key, `null` where None). */
export interface OriginalRecord {
  id: string;
  agent_name: string;
  purpose: string;
  context: { issue_number: number | null; current_phase: string; worktree_path: string | null };
  created_at: string;
  status: 'Active' | 'HandedOff' | 'Completed' | 'Failed';
  parent_session: string | null;
  child_sessions: string[];
  handoff_to: string | null;
  error_message: string | null;
}

/** The original's whole file, pretty-printed with two spaces as serde_json does. */
export function originalFileText(sessions: OriginalRecord[]): string {
  return JSON.stringify({ sessions, version: 1 }, null, 2);
}

/** The original README's example: CodeGenAgent 550e8400-… HandedOff to ReviewAgent 660e8400-…, Active. */
export const README_EXAMPLE: OriginalRecord[] = [
  {
    id: '550e8400-e29b-41d4-a716-446655440000',
    agent_name: 'CodeGenAgent',
    purpose: 'Implement feature X',
    context: { issue_number: 270, current_phase: 'CodeGeneration', worktree_path: '.worktrees/issue-270' },
    created_at: '2025-10-25T10:30:00Z',
    status: 'HandedOff',
    parent_session: null,
    child_sessions: ['660e8400-e29b-41d4-a716-446655440001'],
    handoff_to: 'ReviewAgent',
    error_message: null,
  },
  {
    id: '660e8400-e29b-41d4-a716-446655440001',
    agent_name: 'ReviewAgent',
    purpose: 'Handoff from session 550e8400-e29b-41d4-a716-446655440000',
    context: { issue_number: 270, current_phase: 'Review', worktree_path: '.worktrees/issue-270' },
    created_at: '2025-10-25T10:35:00Z',
    status: 'Active',
    parent_session: '550e8400-e29b-41d4-a716-446655440000',
    child_sessions: [],
    handoff_to: null,
    error_message: null,
  },
];

const AGENTS = ['CodeGenAgent', 'ReviewAgent', 'TestAgent', 'DeployAgent'] as const;
const PHASES = ['CodeGeneration', 'Review', 'Test', 'CICD'] as const;

/**
 * An original store of `count` sessions in handoff chains of one to four (CodeGen → Review → Test
 * → Deploy), as the original's handoff leaves them: every chain's last session Active, Completed or
 * Failed (with its error), nulls where it has none, times with nine fractional digits.
 */
export function generatedOriginalStore(count: number): OriginalRecord[] {
  const records: OriginalRecord[] = [];
  for (let chain = 0; records.length < count; chain += 1) {
    const length = Math.min(1 + (chain % 4), count - records.length);
    const ids = Array.from({ length }, () => uuidv4());
    for (let step = 0; step < length; step += 1) {
      const last = step === length - 1;
      const status = !last ? 'HandedOff' : (['Active', 'Completed', 'Failed'] as const)[chain % 3]!;
      records.push({
        id: ids[step]!,
        agent_name: AGENTS[step]!,
        purpose: step === 0 ? `Resolve issue #${chain + 1}` : `Handoff from session ${ids[step - 1]}`,
        context: { issue_number: chain % 7 === 0 ? null : chain + 1, current_phase: PHASES[step]!, worktree_path: chain % 5 === 0 ? null : `.worktrees/issue-${chain + 1}` },
        created_at: `2025-10-${String(1 + (chain % 28)).padStart(2, '0')}T10:${String(step).padStart(2, '0')}:00.${String(chain).padStart(9, '0')}Z`,
        status,
        parent_session: step === 0 ? null : ids[step - 1]!,
        child_sessions: last ? [] : [ids[step + 1]!],
        handoff_to: last ? null : AGENTS[step + 1]!,
        error_message: status === 'Failed' ? `tests failed in chain ${chain}: "quote" \\ and ✓` : null,
      });
    }
  }
  return records;
}
