// `${VAR}` and `$VAR` in config strings are replaced from the environment, as Go's os.ExpandEnv
// does for upstream stunnerd (an unset variable expands to ""). Credentials are left alone: a `$`
// in a password is part of the password.

import { isObject } from './fields.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

const SPECIAL = '*#$@!?-0123456789';
const NAME_CHAR = /[A-Za-z0-9_]/;

/** Go's os.Expand, step for step, so a config expands here exactly as under upstream stunnerd. */
export function expandString(s: string, env: Environment): string {
  if (!s.includes('$')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const dollar = s.indexOf('$', i);
    if (dollar < 0 || dollar === s.length - 1) return out + s.slice(i);
    out += s.slice(i, dollar);
    const [name, width] = shellName(s.slice(dollar + 1));
    if (name !== '') out += env[name] ?? '';
    else if (width === 0) out += '$'; // "$" not followed by a name stays
    i = dollar + 1 + width; // bad syntax ("${}", "${x") is eaten, as Go does
  }
  return out;
}

/** Go's getShellName: the variable name after "$" and how many characters it spans. */
function shellName(s: string): [string, number] {
  if (s[0] === '{') {
    if (s.length > 2 && SPECIAL.includes(s[1]) && s[2] === '}') return [s[1], 3];
    const close = s.indexOf('}', 1);
    if (close === 1) return ['', 2];
    if (close < 0) return ['', 1];
    return [s.slice(1, close), close + 1];
  }
  if (SPECIAL.includes(s[0])) return [s[0], 1];
  let n = 0;
  while (n < s.length && NAME_CHAR.test(s[n])) n++;
  return [s.slice(0, n), n];
}

/** A copy of `raw` with every string expanded, except under auth.credentials. */
export function expandConfigEnv(raw: unknown, env: Environment = process.env): unknown {
  return expand(raw, env, []);
}

function expand(v: unknown, env: Environment, at: readonly string[]): unknown {
  if (typeof v === 'string') return expandString(v, env);
  if (Array.isArray(v)) return v.map((x) => expand(x, env, at));
  if (!isObject(v)) return v;
  if (at.length === 2 && at[0] === 'auth' && at[1] === 'credentials') return { ...v };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = expand(x, env, [...at, k]);
  return out;
}
