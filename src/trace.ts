// Phase timestamps for `DBXR_TRACE_TIMINGS=1` (scripts/bench/exec.ts shows where an exec's time goes).
// Always recorded (a performance mark costs about a microsecond); main.ts prints them on stderr when the
// variable asks for it. main.ts imports this module first, so that its own mark tells how long the module
// graph took to load (time origin to here) from how long it took to evaluate (here to main).

performance.mark("modules:evaluating");

/** Records that `name` happened now. */
export function mark(name: string): void {
  performance.mark(name);
}

/** The marks so far, one `[timing] <ms since time origin> <name>` line each, the origin's epoch first. */
export function timingLines(): string {
  const lines = [`[timing] origin ${performance.timeOrigin.toFixed(1)}`];
  for (const m of performance.getEntriesByType("mark")) {
    lines.push(`[timing] ${m.startTime.toFixed(1)} ${m.name}`);
  }
  return lines.join("\n") + "\n";
}
