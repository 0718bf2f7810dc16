import { SessionEventSchema } from './session-event.js';

/** Why an event of this schema version is not a valid event, as a reader reports it; null when it is one. */
export function schemaRefusal(event: unknown): string | null {
  const parsed = SessionEventSchema.safeParse(event);
  return parsed.success ? null : schemaIssuesText(parsed.error);
}

/** A schema's complaint as one line: each issue's path and message. */
export function schemaIssuesText(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  const issues = error.issues.map((i) => `${i.path.map(String).join('.') || '(event)'}: ${i.message}`);
  return `not a valid event: ${issues.join('; ')}`;
}
