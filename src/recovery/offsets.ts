/** A position in the history: a Redis stream id, "<ms>-<seq>". */
export type Offset = string;

const OFFSET = /^(\d{1,16})-(\d{1,16})$/;

/** Whether `value` is an offset as echo-relay hands them out (and Redis can read). */
export function isOffset(value: unknown): value is Offset {
  return typeof value === 'string' && OFFSET.test(value);
}

/** Orders two offsets (< 0, 0, > 0), as Redis orders stream ids. */
export function compareOffsets(a: Offset, b: Offset): number {
  const [am, as] = split(a);
  const [bm, bs] = split(b);
  return am === bm ? as - bs : am - bm;
}

/** The position before any entry. */
export const START: Offset = '0-0';

function split(offset: Offset): [number, number] {
  const dash = offset.indexOf('-');
  return [Number(offset.slice(0, dash)), Number(offset.slice(dash + 1))];
}
