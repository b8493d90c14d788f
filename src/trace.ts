// Phase timestamps for `DBXR_TRACE_TIMINGS=1` (scripts/bench/exec.ts shows where an exec's time goes).
// main.ts turns them on when the variable asks for it (only main.ts reads the environment) and prints them
// on stderr at the end; off, mark() records nothing, so that a long `job run` or server accumulates nothing.
// main.ts imports this module first, so that its one unconditional mark tells how long the module graph took
// to load (time origin to here) from how long it took to evaluate (here to main).

performance.mark("modules:evaluating");

let enabled = false;

/** Starts recording marks (main.ts, for DBXR_TRACE_TIMINGS=1). */
export function enableTimings(): void {
  enabled = true;
}

/** Records that `name` happened now, when timings are on (a performance mark: about a microsecond). */
export function mark(name: string): void {
  if (enabled) performance.mark(name);
}

/** The marks so far, one `[timing] <ms since time origin> <name>` line each, the origin's epoch first. */
export function timingLines(): string {
  const lines = [`[timing] origin ${performance.timeOrigin.toFixed(1)}`];
  for (const m of performance.getEntriesByType("mark")) {
    lines.push(`[timing] ${m.startTime.toFixed(1)} ${m.name}`);
  }
  return lines.join("\n") + "\n";
}
