// @ts-check
// Fixed-bucket latency histogram, cheap to record into and to merge across
// worker threads (plain Float64Array, transferable).
//
// Buckets: 0.1 ms wide below 100 ms (1000 buckets), 1 ms wide from 100 ms to
// 10 s (9900 buckets), plus one overflow bucket. Percentiles are reported as
// the upper edge of the bucket, so they are accurate to 0.1 ms in the range
// that matters for the "p99 < 100 ms" criterion.

const FINE_LIMIT_MS = 100;
const FINE_BUCKETS = 1000; // 0.1 ms each
const COARSE_LIMIT_MS = 10_000;
const COARSE_BUCKETS = COARSE_LIMIT_MS - FINE_LIMIT_MS; // 1 ms each
/** Number of slots in a histogram array (last slot = overflow). */
export const HIST_SIZE = FINE_BUCKETS + COARSE_BUCKETS + 1;

/**
 * Create an empty histogram.
 * @returns {Float64Array<ArrayBuffer>}
 */
export function createHistogram() {
  return new Float64Array(HIST_SIZE);
}

/**
 * Bucket index for a latency in milliseconds (negative values clamp to 0).
 * @param {number} ms
 * @returns {number}
 */
export function bucketOf(ms) {
  if (ms < FINE_LIMIT_MS) return ms <= 0 ? 0 : (ms * 10) | 0;
  if (ms < COARSE_LIMIT_MS) return FINE_BUCKETS + ((ms - FINE_LIMIT_MS) | 0);
  return HIST_SIZE - 1;
}

/**
 * Upper edge (ms) of a bucket.
 * @param {number} i
 * @returns {number}
 */
export function bucketUpperMs(i) {
  if (i < FINE_BUCKETS) return (i + 1) / 10;
  if (i < HIST_SIZE - 1) return FINE_LIMIT_MS + (i - FINE_BUCKETS) + 1;
  return Infinity;
}

/**
 * Add `src` into `dst` in place.
 * @param {Float64Array} dst
 * @param {Float64Array} src
 */
export function mergeInto(dst, src) {
  for (let i = 0; i < HIST_SIZE; i++) dst[i] += src[i];
}

/**
 * Percentiles of a histogram.
 * @param {Float64Array} hist
 * @param {number[]} ps percentiles in [0, 100]
 * @returns {(number|null)[]} latency in ms per requested percentile (null when empty)
 */
export function percentiles(hist, ps) {
  let total = 0;
  for (let i = 0; i < HIST_SIZE; i++) total += hist[i];
  if (total === 0) return ps.map(() => null);
  const targets = ps.map((p) => Math.max(1, Math.ceil((p / 100) * total)));
  const out = new Array(ps.length).fill(null);
  let seen = 0;
  for (let i = 0; i < HIST_SIZE; i++) {
    if (hist[i] === 0) continue;
    seen += hist[i];
    for (let k = 0; k < ps.length; k++) {
      if (out[k] === null && seen >= targets[k]) out[k] = bucketUpperMs(i);
    }
  }
  return out;
}
