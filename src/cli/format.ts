import type { Session } from '../domain/session.js';

/** Renders rows as an aligned text table with a header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
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

/** One line per session for `list` and `at`. */
export function sessionsTable(sessions: readonly Session[]): string {
  return table(
    ['ID', 'AGENT', 'STATUS', 'PHASE', 'ISSUE', 'CREATED', 'DURATION'],
    sessions.map((s) => [s.id, s.agentName, s.status, s.context.currentPhase, issueLabel(s.context.issueNumber), s.createdAt, duration(sessionDuration(s))]),
  );
}

/** Writes a line to stdout. */
export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Writes a value as pretty JSON to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
