/**
 * The known key an unknown one most likely meant: the same name in another case, or one within a
 * couple of typing slips (a letter missing, extra, wrong, or two swapped). Short names allow one
 * slip, longer ones two, so `prot` suggests `port` but `url` does not suggest `tls`.
 */
export function closestKey(name: string, candidates: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase();
  const allowed = wanted.length >= 8 ? 2 : 1;
  let best: { key: string; distance: number } | undefined;
  for (const key of candidates) {
    if (key === name) continue;
    const distance = typingDistance(wanted, key.toLowerCase());
    if (distance <= allowed && (!best || distance < best.distance)) best = { key, distance };
  }
  return best?.key;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function typingDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return Math.abs(a.length - b.length);
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
