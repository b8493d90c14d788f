// Timestamps as the seed's tool writes them. Python's `datetime.now(timezone.utc).isoformat()` gives
// "2026-02-22T02:00:02.881510+00:00"; JavaScript clocks have milliseconds, so dbxr writes the same
// shape with the last three digits zero. Readers of either tool parse both.

/** ISO-8601 UTC with six fraction digits and a `+00:00` offset, like the seed's session files. */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, "000+00:00");
}

/** Epoch milliseconds of an ISO-8601 timestamp (either tool's form), or undefined if unreadable. */
export function parseIso(s: unknown): number | undefined {
  if (typeof s !== "string") return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * A compact UTC stamp for file names ("20260222T020002Z"): no colons, which Windows refuses in file
 * names, and no dots, which would read as extensions.
 */
export function fileStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "");
}

/** Seconds between two instants, rounded to 0.1 s as the seed rounds `elapsed_seconds`. */
export function elapsedSeconds(fromMs: number, toMs: number): number {
  return Math.max(0, Math.round((toMs - fromMs) / 100) / 10);
}
