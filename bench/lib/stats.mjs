// Summaries of repeated measurements: median and spread (min..max).

/**
 * Median of the finite numbers in `xs` (null when there are none).
 * @param {(number|null|undefined)[]} xs
 * @returns {number|null}
 */
export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/**
 * Median, min and max of the finite numbers in `xs`.
 * @param {(number|null|undefined)[]} xs
 * @returns {{median: number|null, min: number|null, max: number|null, n: number}}
 */
export function summarize(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return { median: null, min: null, max: null, n: 0 };
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

/**
 * Summarize each numeric field of a list of records.
 * @param {object[]} records
 * @param {string[]} fields
 * @returns {Record<string, ReturnType<typeof summarize>>}
 */
export function summarizeFields(records, fields) {
  const out = {};
  for (const f of fields) out[f] = summarize(records.map((r) => r[f]));
  return out;
}
