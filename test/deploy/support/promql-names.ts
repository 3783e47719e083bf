// Which series names a PromQL expression reads. A small lexical pass, not a parser: enough for the expressions in
// this repository's dashboards and rules, and it errs towards reporting too much (a stray word is flagged, not hidden).

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless',
  'offset', 'bool', 'inf', 'nan']);

/** Metric names read by `expr` (identifiers that are neither functions, keywords, label names nor strings). */
export function seriesNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // string literals
    .replace(/\{[^{}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range and subquery durations
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists and their keyword
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, ' '); // template variables
  const names = new Set<string>();
  for (const m of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const word = m[1];
    if (m[2] !== undefined || KEYWORDS.has(word.toLowerCase())) continue; // a function call or keyword
    if (/^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}
