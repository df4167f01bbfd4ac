/** Words of PromQL that are not metric names when not followed by `(`. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads. Strings, label matchers, ranges, grouping lists and numbers
 * are removed first (they hold label names and Grafana's `$variables`), then every identifier that is
 * not a function call or a keyword is a metric name. Enough for the expressions of our dashboard,
 * not a full parser.
 */
export function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    // Numbers and durations (0.99, 1e3, 5m): their letters are no identifiers.
    .replace(/(?<![A-Za-z0-9_:])\d[\w.]*/g, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\()?)/g)) {
    if (match[1] === '(' || KEYWORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/**
 * Every series name a Prometheus text exposition can answer for: each `# TYPE` line's name (printed
 * by prom-client for every registered metric, with or without samples yet), with a histogram's
 * `_bucket`/`_sum`/`_count` and a summary's `_sum`/`_count`, plus every sample's name.
 */
export function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  for (const [, name] of text.matchAll(/^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/gm)) names.add(name);
  return names;
}
