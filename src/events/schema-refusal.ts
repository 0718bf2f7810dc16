import type { z } from 'zod';
import { compileAcceptor } from './schema-acceptor.js';
import { SessionEventSchema, type SessionEvent } from './session-event.js';

/** Whether `value` is a valid event as it is: true only where {@link SessionEventSchema} accepts it unchanged. */
const acceptsEvent = compileAcceptor(SessionEventSchema);

/**
 * `value` checked against {@link SessionEventSchema}, answered as `safeParse` answers: the
 * compiled acceptor takes nearly every valid event as it is (the value itself is the event);
 * zod judges whatever it leaves, and fills in defaults or explains.
 */
export function checkedEvent(value: unknown): { success: true; data: SessionEvent } | { success: false; error: z.ZodError } {
  return acceptsEvent(value) ? { success: true, data: value as SessionEvent } : SessionEventSchema.safeParse(value);
}

/** Why an event of this schema version is not a valid event, as a reader reports it; null when it is one. */
export function schemaRefusal(event: unknown): string | null {
  const parsed = checkedEvent(event);
  return parsed.success ? null : schemaIssuesText(parsed.error);
}

/** A schema's complaint as one line: each issue's path and message. */
export function schemaIssuesText(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  const issues = error.issues.map((i) => `${i.path.map(String).join('.') || '(event)'}: ${i.message}`);
  return `not a valid event: ${issues.join('; ')}`;
}
