/*
 * Agents' output (results, errors, conversations) and users' input (purposes) reach the terminal
 * through every text command, and the browser through the report. A control character there is an instruction to the terminal: ESC
 * starts sequences that retitle it (`ESC]0;…BEL`), clear it (`ESC[2J`) or plant a hyperlink
 * (`ESC]8;;url`), and a bidi override reorders what is read. So text output shows each of them
 * as an escape (`\u001b`), and machine output (JSON) spells them as `\u` escapes, which parse back
 * to the same string.
 */

/** C0 controls but newline and tab, DEL, C1 controls, bidi embeddings, overrides and isolates, line and paragraph separators. */
const UNSAFE_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same, and newline and tab: a table cell or a one-line field keeps to its line. */
const UNSAFE_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** What JSON.stringify leaves as it is but a terminal acts on. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** How text output shows a character it must not print as it is. */
export const escaped = (char: string): string => {
  if (char === '\n') return '\\n';
  if (char === '\t') return '\\t';
  if (char === '\r') return '\\r';
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
};

/** Text for a terminal or a page: lines and tabs kept, every other control character shown escaped. */
export function safeText(text: string): string {
  return text.replace(UNSAFE_IN_TEXT, escaped);
}

/** One line for the terminal (a table cell, a field): newlines and tabs escaped too. */
export function safeLine(text: string): string {
  return text.replace(UNSAFE_IN_LINE, escaped);
}

/** JSON text that parses to exactly the value, with nothing in it a terminal acts on. */
export function safeJson(value: unknown, indent?: number): string {
  return safeJsonText(JSON.stringify(value, null, indent));
}

/** JSON text (from any serializer) with what JSON.stringify leaves raw and a terminal acts on spelled as `\u` escapes. */
export function safeJsonText(json: string): string {
  return json.replace(UNSAFE_IN_JSON, escaped);
}
