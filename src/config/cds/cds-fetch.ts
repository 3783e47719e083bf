// The one-shot load (stunnerd -c http://… without -w): GET the config once. Anything but 200 is an error that
// names the status and the server's message, e.g. 404 "Config not found for ID ns/name" before the operator has
// rendered one.

export class CdsFetchError extends Error {
  readonly code = 'ERR_CDS_FETCH';
  readonly status: number | undefined;

  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

export const FETCH_TIMEOUT_MS = 10_000;

/** The config text the server holds for the URL's id. */
export async function fetchCdsConfig(url: URL, timeoutMs = FETCH_TIMEOUT_MS): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new CdsFetchError(`config discovery server ${url.host}: ${cause ?? (err as Error).message}`, undefined,
      { cause: err });
  }
  const body = await res.text();
  if (res.status !== 200) {
    throw new CdsFetchError(`config discovery server ${url.host}: HTTP ${res.status}: ${errorMessage(body)}`, res.status);
  }
  return body;
}

/** The server's error JSON is `{"code":404,"message":"…"}`; show the message, or the body as it is. */
function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON
  }
  return body.trim().slice(0, 200);
}
