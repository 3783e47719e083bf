// Command-line parsing with the rules of spf13/pflag, the parser upstream stunnerd uses, so that every command
// line written for upstream parses the same here: `--name value`, `--name=value`, `-n value`, `-nvalue`,
// `-n=value`, booleans as `--flag`, `--flag=false`, `-abc` (grouped short booleans), flags and arguments
// interleaved, `--` ending the flags. Node's util.parseArgs rejects `--watch=true` and `-u16`.

export type FlagType = 'string' | 'bool' | 'int' | 'stringArray';
export type FlagValue = string | boolean | number | string[];

export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: FlagType;
}

export interface ParsedFlags {
  /** Flags given on the command line, by long name (repeatable ones collect every value). */
  readonly values: ReadonlyMap<string, FlagValue>;
  readonly positionals: readonly string[];
}

export class FlagError extends Error {
  readonly code = 'ERR_FLAG';
}

/** strconv.ParseBool's spellings. */
const TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[]): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short !== undefined).map((s) => [s.short!, s]));
  const values = new Map<string, FlagValue>();
  const positionals: string[] = [];

  const set = (spec: FlagSpec, raw: string, shown: string): void => {
    switch (spec.type) {
      case 'bool':
        if (TRUE.includes(raw)) values.set(spec.name, true);
        else if (FALSE.includes(raw)) values.set(spec.name, false);
        else throw new FlagError(`invalid argument "${raw}" for "${shown}" flag: want true or false`);
        return;
      case 'int': {
        const n = parseGoInt(raw);
        if (n === undefined) throw new FlagError(`invalid argument "${raw}" for "${shown}" flag: want an integer`);
        values.set(spec.name, n);
        return;
      }
      case 'stringArray':
        values.set(spec.name, [...((values.get(spec.name) as string[] | undefined) ?? []), raw]);
        return;
      default:
        values.set(spec.name, raw);
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const spec = byName.get(name);
      if (spec === undefined) throw new FlagError(`unknown flag: --${name}`);
      if (eq >= 0) set(spec, arg.slice(eq + 1), `--${name}`);
      else if (spec.type === 'bool') set(spec, 'true', `--${name}`);
      else if (i + 1 < argv.length) set(spec, argv[++i], `--${name}`);
      else throw new FlagError(`flag needs an argument: --${name}`);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // A group of shorthands: booleans take no value; the first that does takes the rest of the group or the next arg.
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j];
        const spec = byShort.get(c);
        if (spec === undefined) throw new FlagError(`unknown shorthand flag: '${c}' in ${arg}`);
        const rest = arg.slice(j + 1);
        if (rest.startsWith('=')) {
          set(spec, rest.slice(1), `-${c}`);
          break;
        }
        if (spec.type === 'bool') {
          set(spec, 'true', `-${c}`);
          continue;
        }
        if (rest !== '') set(spec, rest, `-${c}`);
        else if (i + 1 < argv.length) set(spec, argv[++i], `-${c}`);
        else throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
        break;
      }
      continue;
    }
    positionals.push(arg);
  }
  return { values, positionals };
}

/** strconv.ParseInt(s, 0, 64) for the values a command line carries: decimal, 0x, 0o, 0b, with a sign. */
function parseGoInt(raw: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9_]+)$/.exec(raw);
  if (m === null) return undefined;
  const digits = m[2].replace(/_/g, '');
  const n = /^0[0-7]+$/.test(digits) ? Number.parseInt(digits, 8) : Number(digits);
  if (!Number.isSafeInteger(n)) return undefined;
  return m[1] === '-' ? -n : n;
}
