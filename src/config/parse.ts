// Config text -> parsed documents. JSON (what the operator writes into the stunnerd ConfigMap) or
// YAML, possibly several documents (Kubernetes manifests).

import { LineCounter, parseAllDocuments } from 'yaml';
import { CONFIG_ERROR_CODES, ConfigError, type ConfigProblem } from './errors.ts';

/** Every document in `text` (null for an empty one); throws ConfigError (ERR_CONFIG_PARSE) with line and column. */
export function parseDocuments(text: string): unknown[] {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trimStart().startsWith('{')) {
    try {
      return [JSON.parse(body)];
    } catch (e) {
      throw new ConfigError(CONFIG_ERROR_CODES.parse, [{ path: '', message: `invalid JSON: ${(e as Error).message}` }]);
    }
  }
  const lineCounter = new LineCounter();
  // maxAliasCount guards against alias bombs; uniqueKeys rejects a key given twice
  const docs = parseAllDocuments(body, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  const problems: ConfigProblem[] = list.flatMap((doc) => doc.errors.map((e) => {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    return { path: '', message: `invalid YAML at line ${line}, column ${col}: ${e.message}` };
  }));
  if (problems.length > 0) throw new ConfigError(CONFIG_ERROR_CODES.parse, problems);
  try {
    return list.map((doc) => (doc.toJS({ maxAliasCount: 100 }) as unknown) ?? null);
  } catch (e) {
    throw new ConfigError(CONFIG_ERROR_CODES.parse, [{ path: '', message: `invalid YAML: ${(e as Error).message}` }]);
  }
}
