import { compileAcceptor } from './schema-acceptor.js';
import { SessionEventSchema } from './session-event.js';

/**
 * Whether `value` is a valid event of this schema version as it is (see {@link compileAcceptor}):
 * true means {@link SessionEventSchema} accepts it unchanged; false, that zod must judge it.
 */
export const acceptsEvent = compileAcceptor(SessionEventSchema);

/** Why an event of this schema version is not a valid event, as a reader reports it; null when it is one. */
export function schemaRefusal(event: unknown): string | null {
  if (acceptsEvent(event)) return null;
  const parsed = SessionEventSchema.safeParse(event);
  return parsed.success ? null : schemaIssuesText(parsed.error);
}

/** A schema's complaint as one line: each issue's path and message. */
export function schemaIssuesText(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  const issues = error.issues.map((i) => `${i.path.map(String).join('.') || '(event)'}: ${i.message}`);
  return `not a valid event: ${issues.join('; ')}`;
}
