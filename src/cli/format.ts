import type { Session } from '../domain/session.js';
import { safeJson, safeLine, safeText } from '../domain/visible-text.js';
import type { LinesOut } from './ndjson-out.js';

/**
 * Renders rows as an aligned text table with a header, each cell on its line (control
 * characters escaped). Any number of rows: widths are found in one pass, never by spreading
 * the rows into arguments.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const safeRows = rows.map((row) => row.map(safeLine));
  const widths = header.map((h) => h.length);
  for (const row of safeRows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return [header, ...safeRows].map((cells) => tableLine(cells, widths)).join('\n');
}

/** One row of a table whose column widths are known (a streamed table sets them up front). */
export function tableLine(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
}

/** "1.2 s", "3 min 4 s", "—" for a session still running. */
export function duration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return minutes < 60 ? `${minutes} min ${Math.round((ms % 60_000) / 1000)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** How long a session lived (or has lived so far, when `now` is given); null when not known. */
export function sessionDuration(session: Session, now?: number): number | null {
  // An ended session without an end time was imported: the original recorded none.
  if (session.endedAt === undefined && session.status !== 'Active') return null;
  const end = session.endedAt === undefined ? now : Date.parse(session.endedAt);
  return end === undefined ? null : end - Date.parse(session.createdAt);
}

/** A context's issue as shown: `#42`, or `—` when the session has none. */
export function issueLabel(issueNumber: number | null): string {
  return issueNumber === null ? '—' : `#${issueNumber}`;
}

/** The columns of a session table. */
export const SESSION_COLUMNS = ['ID', 'AGENT', 'STATUS', 'PHASE', 'ISSUE', 'CREATED', 'DURATION'] as const;

/** A session's cells in a session table. */
export function sessionCells(s: Session): string[] {
  return [s.id, s.agentName, s.status, s.context.currentPhase, issueLabel(s.context.issueNumber), s.createdAt, duration(sessionDuration(s))].map(safeLine);
}

/** One line per session for `list` and `at`. */
export function sessionsTable(sessions: readonly Session[]): string {
  return table(SESSION_COLUMNS, sessions.map(sessionCells));
}

/**
 * {@link sessionsTable}'s lines, the same bytes as printing it, written as they are made: one
 * walk of `sessions` finds the widths, a second writes the rows, so the table's text is never
 * held whole (250,000 sessions made a 27 MB string, and a string may not grow past ~512 MB).
 */
export async function writeSessionsTable(sessions: () => Iterable<Session>, out: LinesOut): Promise<void> {
  const widths: number[] = SESSION_COLUMNS.map((h) => h.length);
  for (const s of sessions()) sessionCells(s).forEach((cell, i) => (widths[i] = Math.max(widths[i]!, safeLine(cell).length)));
  await out.line(safeText(tableLine(SESSION_COLUMNS, widths)));
  for (const s of sessions()) await out.line(safeText(tableLine(sessionCells(s).map(safeLine), widths)));
}

/** Writes text and a newline to stdout, control characters escaped (see domain/visible-text.ts). */
export function print(text: string): void {
  process.stdout.write(`${safeText(text)}\n`);
}

/** Writes a value as pretty JSON to stdout: exact JSON, nothing in it a terminal acts on. */
export function printJson(value: unknown): void {
  process.stdout.write(`${safeJson(value, 2)}\n`);
}
