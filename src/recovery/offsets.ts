/** A position in the history: a Redis stream id, "<ms>-<seq>". */
export type Offset = string;

const OFFSET = /^(\d{1,16})-(\d{1,16})$/;

/** Whether `value` is an offset as echo-relay hands them out (and Redis can read). */
export function isOffset(value: unknown): value is Offset {
  return typeof value === 'string' && OFFSET.test(value);
}

/**
 * Orders two offsets (< 0, 0, > 0), as Redis orders stream ids. Reads the digits in place: the
 * feed compares every entry it delivers, and splitting allocated two arrays and two strings each.
 */
export function compareOffsets(a: Offset, b: Offset): number {
  if (a === b) return 0;
  const ad = a.indexOf('-');
  const bd = b.indexOf('-');
  const am = digits(a, 0, ad);
  const bm = digits(b, 0, bd);
  return am === bm ? digits(a, ad + 1, a.length) - digits(b, bd + 1, b.length) : am - bm;
}

/** The position before any entry. */
export const START: Offset = '0-0';

/** The number written in `text[from, to)`, all decimal digits (as `isOffset` checks). */
function digits(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) value = value * 10 + (text.charCodeAt(i) - 48);
  return value;
}
