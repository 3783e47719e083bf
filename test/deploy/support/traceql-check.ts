// What a TraceQL query of the dashboards may say. A small lexical pass, not Tempo's parser: it finds misspelt span
// names, attributes and keywords, unbalanced brackets, and a query that forgets to select stunnerd's own spans.
import { RESOURCE_ATTRIBUTES, SPAN_ATTRIBUTES, SPAN_NAMES, TRACE_SERVICE_NAME } from './trace-contract.ts';

const KINDS = new Set(['server', 'client', 'internal', 'producer', 'consumer', 'unspecified']);
const STATUSES = new Set(['ok', 'error', 'unset']);
// Intrinsics, pipeline functions and literals a dashboard query may use.
const WORDS = new Set(['name', 'kind', 'status', 'duration', 'statusMessage', 'rootName', 'rootServiceName',
  'traceDuration', 'select', 'by', 'count', 'avg', 'min', 'max', 'sum', 'true', 'false', 'nil', ...KINDS, ...STATUSES]);

/** Problems with `query`; none means it passed. */
export function checkTraceQL(query: string): string[] {
  const problems: string[] = [];
  const strings: string[] = [];
  // String literals become a numbered placeholder, so that brackets and words inside them are not read as syntax.
  let rest = query.replace(/"((?:[^"\\]|\\.)*)"|`([^`]*)`/g, (_whole, a?: string, b?: string) => {
    strings.push(a ?? b ?? '');
    return ` $${strings.length - 1} `;
  });
  if (/["`]/.test(rest)) problems.push('unterminated string');
  if (!/^\s*\{/.test(rest)) problems.push('a query starts with a spanset selector {...}');
  let depth = 0;
  for (const c of rest) {
    if (c === '{' || c === '(') depth++;
    if (c === '}' || c === ')') depth--;
    if (depth < 0) break;
  }
  if (depth !== 0) problems.push('unbalanced brackets');

  const str = (ref: string): string => strings[Number(ref.slice(1))];
  const service = /\bresource\.service\.name\s*=\s*(\$\d+)/.exec(rest);
  if (!service || str(service[1]) !== TRACE_SERVICE_NAME) {
    problems.push(`the query selects resource.service.name = "${TRACE_SERVICE_NAME}"`);
  }
  for (const m of rest.matchAll(/(?<![\w.])name\s*(!?=~?)\s*(\$\d+)/g)) {
    const value = str(m[2]);
    const known = m[1].endsWith('~') ? [...SPAN_NAMES].some((n) => new RegExp(`^(?:${value})$`).test(n)) : SPAN_NAMES.has(value);
    if (!known) problems.push(`name ${m[1]} "${value}": no stunnerd span is named so`);
  }
  for (const [intrinsic, allowed] of [['kind', KINDS], ['status', STATUSES]] as const) {
    for (const m of rest.matchAll(new RegExp(`(?<![\\w.])${intrinsic}\\s*!?=\\s*([A-Za-z_]+)`, 'g'))) {
      if (!allowed.has(m[1])) problems.push(`${intrinsic} = ${m[1]}: expected one of ${[...allowed].join(', ')}`);
    }
  }
  rest = rest.replace(/(?<![\w.])(resource|span)\.([A-Za-z_][A-Za-z0-9_.]*)/g, (_whole, scope: string, attr: string) => {
    const known = scope === 'span' ? SPAN_ATTRIBUTES : RESOURCE_ATTRIBUTES;
    if (!known.has(attr)) problems.push(`${scope}.${attr}: not an attribute stunnerd sets`);
    return ' ';
  });
  for (const m of rest.matchAll(/(?<![\w$])(\.?[A-Za-z_][A-Za-z0-9_.:]*)/g)) {
    const word = m[1];
    if (word.startsWith('.')) problems.push(`${word}: name the attribute's scope (span. or resource.)`);
    else if (!WORDS.has(word)) problems.push(`"${word}" is not a TraceQL intrinsic, function or keyword here`);
  }
  return problems;
}
