import { safeText } from '../domain/visible-text.js';

/**
 * Escapes text for HTML content and attribute values; control characters and bidi overrides
 * (which would reorder what a reader sees) are shown as escapes, as on the terminal.
 */
export function esc(text: string | number): string {
  return safeText(String(text)).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

/** Fill colours per session status, shared by every picture of the report. */
export const STATUS_FILL = { Active: '#ddf4ff', HandedOff: '#fbefff', Completed: '#dafbe1', Failed: '#ffebe9' } as const;
/** Stroke colours per session status. */
export const STATUS_STROKE = { Active: '#1f6feb', HandedOff: '#8957e5', Completed: '#1a7f37', Failed: '#cf222e' } as const;
