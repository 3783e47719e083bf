// Scoped, levelled logging in text or JSON, as stunnerd's `-l all:INFO,turn:DEBUG`.
// Field values whose key names a secret are never written.

export const LOG_LEVELS = ['DISABLE', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'text' | 'json';
export type LogFields = Readonly<Record<string, unknown>>;

const ERROR = 1;
const WARN = 2;
const INFO = 3;
const DEBUG = 4;
const TRACE = 5;

const SECRET_KEY = /pass|secret|credential|token|^key$|cert|authorization/i;

export class LogLevelError extends Error {
  readonly code = 'ERR_LOG_LEVEL';
}

/** Parses `scope:LEVEL[,scope:LEVEL]`; `all` sets the default. Throws `LogLevelError` naming the bad part. */
export function parseLogLevels(spec: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of spec.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const i = part.lastIndexOf(':');
    const scope = i < 0 ? 'all' : part.slice(0, i).trim();
    const name = (i < 0 ? part : part.slice(i + 1)).trim().toUpperCase();
    const level = LOG_LEVELS.indexOf(name as LogLevel);
    if (scope === '' || level < 0) {
      throw new LogLevelError(`bad log level "${part}": want scope:LEVEL with LEVEL one of ${LOG_LEVELS.join('|')}`);
    }
    out.set(scope.toLowerCase(), level);
  }
  return out;
}

export class Logger {
  readonly scope: string;
  /** Current numeric level; read before building expensive messages. */
  level = INFO;
  readonly #factory: LoggerFactory;

  constructor(factory: LoggerFactory, scope: string) {
    this.#factory = factory;
    this.scope = scope;
  }

  get debugEnabled(): boolean {
    return this.level >= DEBUG;
  }

  get traceEnabled(): boolean {
    return this.level >= TRACE;
  }

  error(msg: string, fields?: LogFields): void {
    if (this.level >= ERROR) this.#factory.write(this.scope, 'ERROR', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    if (this.level >= WARN) this.#factory.write(this.scope, 'WARN', msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    if (this.level >= INFO) this.#factory.write(this.scope, 'INFO', msg, fields);
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.level >= DEBUG) this.#factory.write(this.scope, 'DEBUG', msg, fields);
  }

  trace(msg: string, fields?: LogFields): void {
    if (this.level >= TRACE) this.#factory.write(this.scope, 'TRACE', msg, fields);
  }
}

export interface LoggerOptions {
  format?: LogFormat;
  levels?: string;
  /** Where finished lines go; stderr by default. */
  sink?: (line: string) => void;
  now?: () => number;
}

export class LoggerFactory {
  format: LogFormat;
  readonly #loggers = new Map<string, Logger>();
  readonly #sink: (line: string) => void;
  readonly #now: () => number;
  #levels = new Map<string, number>([['all', INFO]]);
  #spec = 'all:INFO';

  constructor(opts: LoggerOptions = {}) {
    this.format = opts.format ?? 'text';
    this.#sink = opts.sink ?? ((line) => process.stderr.write(line + '\n'));
    this.#now = opts.now ?? Date.now;
    if (opts.levels !== undefined) this.setLevels(opts.levels);
  }

  /** Applies a level spec to every logger, existing and future. */
  setLevels(spec: string): void {
    const levels = parseLogLevels(spec);
    if (!levels.has('all')) levels.set('all', this.#levels.get('all') ?? INFO);
    this.#levels = levels;
    this.#spec = [...levels].map(([scope, level]) => `${scope}:${LOG_LEVELS[level]}`).join(',');
    for (const logger of this.#loggers.values()) logger.level = this.#levelOf(logger.scope);
  }

  /** The levels in force, as a spec `setLevels` takes (for a worker thread's own factory). */
  get levelSpec(): string {
    return this.#spec;
  }

  get(scope: string): Logger {
    let logger = this.#loggers.get(scope);
    if (logger === undefined) {
      logger = new Logger(this, scope);
      logger.level = this.#levelOf(scope);
      this.#loggers.set(scope, logger);
    }
    return logger;
  }

  #levelOf(scope: string): number {
    return this.#levels.get(scope.toLowerCase()) ?? this.#levels.get('all') ?? INFO;
  }

  write(scope: string, level: LogLevel, msg: string, fields?: LogFields): void {
    const ts = new Date(this.#now()).toISOString();
    if (this.format === 'json') {
      const rec: Record<string, unknown> = { ts, level, scope, msg };
      if (fields !== undefined) for (const [k, v] of Object.entries(fields)) rec[k] = redact(k, v);
      this.#sink(JSON.stringify(rec, jsonSafe));
      return;
    }
    let line = `${ts} ${level.padEnd(5)} ${scope}: ${oneLine(msg)}`;
    if (fields !== undefined) {
      for (const [k, v] of Object.entries(fields)) line += ` ${k}=${formatValue(redact(k, v))}`;
    }
    this.#sink(line);
  }
}

/** Nested plain objects and arrays are walked too: a `{ config }` field must not carry its password out. */
function redact(key: string, value: unknown, depth = 0): unknown {
  if (SECRET_KEY.test(key) && value !== undefined && value !== '') return '<redacted>';
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_FIELD_DEPTH) return '<too deep>';
  if (Array.isArray(value)) return value.map((v) => redact('', v, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(k, v, depth + 1)]));
}

const MAX_FIELD_DEPTH = 6;

/**
 * A text record is one line: a newline in a message (which may echo a config key or value) would start a line
 * that is not a record, and could pose as one. Control characters are escaped as JSON escapes them.
 */
function oneLine(msg: string): string {
  for (let i = 0; i < msg.length; i++) {
    const c = msg.charCodeAt(i);
    if (c < 0x20 && c !== 0x09) return JSON.stringify(msg).slice(1, -1);
  }
  return msg;
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return value.message;
  return value;
}

function formatValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'string') return /^[\w.:/@[\]-]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
  if (typeof v === 'object' && v !== null) return JSON.stringify(v, jsonSafe);
  return String(v);
}

/**
 * Lets one message through per key per interval and counts the rest, so a flood of bad packets cannot
 * flood the log. The suppressed count rides on the next message that passes.
 */
export class RateLimitedLog {
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #state = new Map<string, { until: number; suppressed: number }>();

  constructor(intervalMs = 10_000, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Returns the number suppressed since the last pass (≥ 0) when the message may be written, or -1. */
  admit(key: string): number {
    const t = this.#now();
    const s = this.#state.get(key);
    if (s === undefined || t >= s.until) {
      const suppressed = s?.suppressed ?? 0;
      if (this.#state.size > 1000) this.#state.clear();
      this.#state.set(key, { until: t + this.#intervalMs, suppressed: 0 });
      return suppressed;
    }
    s.suppressed++;
    return -1;
  }

  warn(logger: Logger, key: string, msg: string, fields?: LogFields): void {
    if (logger.level < WARN) return;
    const n = this.admit(key);
    if (n < 0) return;
    logger.warn(msg, n > 0 ? { ...fields, suppressed: n } : fields);
  }
}
