// Operator-facing configuration errors: a stable `code`, the JSON path of the offending field, and
// what was expected, e.g. `listeners[1].port: must be 1..65535, got 70000`.

export const CONFIG_ERROR_CODES = {
  /** The config parsed but breaks a rule; `problems` lists every broken rule. */
  invalid: 'ERR_CONFIG_INVALID',
  /** The config file could not be read. */
  read: 'ERR_CONFIG_READ',
  /** The config text is not valid JSON or YAML. */
  parse: 'ERR_CONFIG_PARSE',
  /** A turn:// or turns:// URI is malformed. */
  uri: 'ERR_CONFIG_URI',
} as const;
export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[keyof typeof CONFIG_ERROR_CODES];

/** One broken rule (or, as a warning, one questionable setting) at one field. */
export interface ConfigProblem {
  /** JSON path like `listeners[1].port`; "" for the document root. */
  readonly path: string;
  /** What was expected, and what was found. */
  readonly message: string;
  /** The Kubernetes resource the path is in, e.g. `Gateway stunner/udp-gateway`. */
  readonly resource?: string;
}

/** `listeners[1].port: must be 1..65535, got 70000`, prefixed by the resource when there is one. */
export function formatProblem(p: ConfigProblem): string {
  const at = p.resource === undefined ? p.path : p.path === '' ? p.resource : `${p.resource}: ${p.path}`;
  return at === '' ? p.message : `${at}: ${p.message}`;
}

export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  /** Path of the first problem. */
  readonly path: string;
  /** Every problem found, in document order; the message has one line per problem. */
  readonly problems: readonly ConfigProblem[];
  /** The file the config came from, when there was one. */
  readonly file: string | undefined;

  constructor(code: ConfigErrorCode, problems: readonly ConfigProblem[], file?: string, options?: ErrorOptions) {
    const prefix = file === undefined ? '' : `${file}: `;
    super(problems.map((p) => prefix + formatProblem(p)).join('\n'), options);
    this.name = 'ConfigError';
    this.code = code;
    this.path = problems[0]?.path ?? '';
    this.problems = problems;
    this.file = file;
  }

  /** The same problems, attributed to a file. */
  inFile(file: string): ConfigError {
    return new ConfigError(this.code, this.problems, file, { cause: this.cause });
  }
}

/** `base` + `.key` or `[i]`: the JSON path of a child field. */
export function childPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

/** Where validation code reports what it finds. */
export interface ProblemSink {
  error(path: string, message: string): void;
  warn(path: string, message: string): void;
}

/** Collects every error and warning of one validation pass, so users see all of them at once. */
export class Problems implements ProblemSink {
  readonly errors: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];

  error(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  warn(path: string, message: string): void {
    this.warnings.push({ path, message });
  }

  /** A sink whose problems name `resource` (e.g. `Gateway stunner/udp-gateway`) before their path. */
  in(resource: string): ProblemSink {
    return {
      error: (path, message) => this.errors.push({ resource, path, message }),
      warn: (path, message) => this.warnings.push({ resource, path, message }),
    };
  }

  /** Throws one ConfigError carrying every error collected so far. */
  throwIfErrors(code: ConfigErrorCode = CONFIG_ERROR_CODES.invalid): void {
    if (this.errors.length > 0) throw new ConfigError(code, [...this.errors]);
  }
}
