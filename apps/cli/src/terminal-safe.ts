/**
 * Text that came from files (class names in run.json, layer names in
 * model.json, file names) made safe to print: a terminal obeys escape
 * sequences wherever they appear, so an error message could otherwise clear
 * the screen, move the cursor or recolour what follows. Control characters
 * (C0, DEL, C1) and the Unicode controls that reorder or hide text are shown
 * as `\uXXXX` instead.
 */

// Control characters are exactly what these match: they are stripped from untrusted text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_OR_NEWLINE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const escape = (ch: string) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `text` with control characters escaped; tabs and line breaks are kept (for multi-line messages). */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL, escape);
}

/** A single untrusted value for a message: in single quotes, every control character (line breaks too) escaped, cut after `max` characters. */
export function terminalQuote(value: string, max = 80): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return `'${cut.replace(CONTROL_OR_NEWLINE, escape)}'`;
}

/** An untrusted value shown bare (a class label in a table): every control character escaped, cut after `max`. */
export function terminalBare(value: string, max = 80): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return cut.replace(CONTROL_OR_NEWLINE, escape);
}

/**
 * Why `JSON.parse` failed, without the snippet of the text V8 quotes in its
 * messages (the text may be any file): the position when known.
 */
export function jsonErrorWhere(e: unknown): string {
  const message = e instanceof Error ? e.message : '';
  const pos = /position (\d+)/.exec(message);
  if (pos) return `malformed at character ${pos[1]}`;
  if (/end of (JSON|data)/i.test(message)) return 'it ends too early';
  return 'malformed';
}

/**
 * `value` as one shell word, for a command bp suggests: as is when it holds only characters no
 * shell treats specially, else in single quotes (a single quote inside written `'\\''`).
 */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}
