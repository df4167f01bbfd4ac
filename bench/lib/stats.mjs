// @ts-check
// Summaries of repeated measurements: median and spread (min..max).

/**
 * The finite numbers in `xs`, in order.
 * @param {(number|null|undefined)[]} xs
 * @returns {number[]}
 */
function finite(xs) {
  return xs.filter(/** @returns {x is number} */ (x) => typeof x === 'number' && Number.isFinite(x));
}

/**
 * Median of the finite numbers in `xs` (null when there are none).
 * @param {(number|null|undefined)[]} xs
 * @returns {number|null}
 */
export function median(xs) {
  const v = finite(xs).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** @typedef {{median: number|null, min: number|null, max: number|null, n: number}} Summary */

/**
 * Median, min and max of the finite numbers in `xs`.
 * @param {(number|null|undefined)[]} xs
 * @returns {Summary}
 */
export function summarize(xs) {
  const v = finite(xs);
  if (v.length === 0) return { median: null, min: null, max: null, n: 0 };
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

/**
 * Summarize each numeric field of a list of records.
 * @template {object} R
 * @template {keyof R & string} F
 * @param {R[]} records
 * @param {F[]} fields numeric (or null) fields of R
 * @returns {Record<F, ReturnType<typeof summarize>>}
 */
export function summarizeFields(records, fields) {
  const out = /** @type {Record<F, ReturnType<typeof summarize>>} */ ({});
  for (const f of fields) out[f] = summarize(records.map((r) => /** @type {number|null|undefined} */ (r[f])));
  return out;
}
