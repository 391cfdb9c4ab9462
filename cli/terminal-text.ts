/**
 * Text from the hub shown in a terminal table: what the public wrote (an objection's reason) or a source sent
 * (a name, a document number). One line, no control characters (a terminal escape sequence would act on the
 * operator's terminal), no bidirectional overrides (they reorder what is shown), at most `max` characters.
 */
import { displayWidth } from './sources.js';

const HIDDEN = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

export function cellText(text: string, max = 200): string {
  const line = text.replace(HIDDEN, ' ').replace(/\s+/g, ' ').trim();
  const chars = [...line];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : line;
}

/** An ISO date-time as the other tables print it (UTC, seconds, `Z`); the text as given when it is not one. */
export function timeCell(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? cellText(iso, 40) : `${new Date(t).toISOString().slice(0, 19)}Z`;
}

/** A labelled line whose values line up in a column `width` wide (labels mix Chinese and English). */
export const labelled = (label: string, value: string, width = 30) => `  ${label}${' '.repeat(Math.max(1, width - displayWidth(label)))}${value}\n`;
