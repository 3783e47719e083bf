// Reading one series off a gateway's /metrics, for tests that check what a real client's traffic was counted as.

/** The value of the first series of `name` carrying all of `labels` on the scrape of `url` (0 when absent). */
export async function scrapedValue(url: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(url)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}
