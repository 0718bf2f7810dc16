import { escaped } from '../domain/visible-text.js';

/** HTML's special characters, and what safeText escapes (domain/visible-text.ts): one pass finds both. */
const UNSAFE_IN_HTML = /[&<>"'\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const ENTITY: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for HTML content and attribute values; control characters and bidi overrides
 * (which would reorder what a reader sees) are shown as escapes, as on the terminal
 * (`safeText`). One pass over the text: a page of the dashboard escapes a few hundred strings.
 */
export function esc(text: string | number): string {
  return String(text).replace(UNSAFE_IN_HTML, (char) => ENTITY[char] ?? escaped(char));
}

/** Fill colours per session status, shared by every picture of the report. */
export const STATUS_FILL = { Active: '#ddf4ff', HandedOff: '#fbefff', Completed: '#dafbe1', Failed: '#ffebe9' } as const;
/** Stroke colours per session status. */
export const STATUS_STROKE = { Active: '#1f6feb', HandedOff: '#8957e5', Completed: '#1a7f37', Failed: '#cf222e' } as const;
