// The one table renderer for lists in text output, and the styles it (and every text renderer) colours
// with. Pure: the caller decides whether colours are on (src/output.ts: a terminal and no NO_COLOR).

export interface Style {
  /** Column headers. */
  header(s: string): string;
  /** A state word (RUNNING, TERMINATED SUCCESS, Finished, error...), coloured by what it means. */
  state(s: string): string;
  /** Secondary text (URLs, hints). */
  dim(s: string): string;
}

export const plainStyle: Style = { header: (s) => s, state: (s) => s, dim: (s) => s };

const sgr = (code: string) => (s: string) => s === "" ? s : `\x1b[${code}m${s}\x1b[0m`;
const green = sgr("32");
const red = sgr("31");
const yellow = sgr("33");

export const ansiStyle: Style = {
  header: sgr("1"),
  dim: sgr("2"),
  state: (s) => {
    // Judged by the state itself, not by a message after it ("RUNNING - Error while ..." is running).
    const tone = stateTone(s.split(/ [(-]/)[0]);
    return tone === "good" ? green(s) : tone === "bad" ? red(s) : tone === "busy" ? yellow(s) : s;
  },
};

const GOOD = /^(RUNNING|SUCCESS|SUCCEEDED|Finished|ok|active|created|alive|RESIZING)$/;
const BAD =
  /^(ERROR|FAILED|FAILURE|TIMEDOUT|INTERNAL_ERROR|CANCELED|Error|Cancelled|cancelled|ContextEvicted|RunFailed|PreflightFailed|error|SKIPPED|UPSTREAM_FAILED|MAXIMUM_CONCURRENT_RUNS_REACHED)$/;
const BUSY =
  /^(PENDING|QUEUED|BLOCKED|RESTARTING|TERMINATING|Queued|Running|Cancelling|submitted|submitting|warning|WAITING_FOR_RETRY)$/;

/** good (green), bad (red), busy (yellow) or neutral, judged by the most telling word of a state. */
export function stateTone(state: string): "good" | "bad" | "busy" | "neutral" {
  const words = state.trim().split(/\s+/).map((w) => w.replace(/[:,;.)]+$/, ""));
  // "TERMINATED SUCCESS": the result state tells more than the life cycle.
  for (const w of [...words].reverse()) {
    if (BAD.test(w)) return "bad";
    if (GOOD.test(w)) return "good";
    if (BUSY.test(w)) return "busy";
  }
  return "neutral";
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** Width on the terminal: without colour codes. */
export function visibleWidth(s: string): number {
  return s.replace(ANSI, "").length;
}

export type Cell = string | number | null | undefined;

export interface TableOptions {
  style?: Style;
  /** Columns (by index) whose cells are states, coloured by stateTone. */
  stateColumns?: number[];
  /** What to print for no rows (default "(none)"). */
  empty?: string;
}

/**
 * Aligned columns under a header line, two spaces apart. The last column is not padded (no trailing
 * blanks); null and undefined print as "-"; newlines in a cell become spaces so a row stays one line.
 */
export function table(headers: string[], rows: Cell[][], opts: TableOptions = {}): string {
  if (rows.length === 0) return opts.empty ?? "(none)";
  const style = opts.style ?? plainStyle;
  const stateCols = new Set(opts.stateColumns ?? []);
  const text = rows.map((r) => headers.map((_, i) => cellText(r[i])));
  const widths = headers.map((h, i) => Math.max(visibleWidth(h), ...text.map((r) => visibleWidth(r[i]))));
  const line = (cells: string[], paint: (s: string, i: number) => string) =>
    cells.map((c, i) => {
      const painted = paint(c, i);
      return i === cells.length - 1 ? painted : painted + " ".repeat(widths[i] - visibleWidth(c));
    }).join("  ").trimEnd();
  return [
    line(headers, (h) => style.header(h)),
    ...text.map((r) => line(r, (c, i) => stateCols.has(i) && c !== "-" ? style.state(c) : c)),
  ].join("\n");
}

function cellText(c: Cell): string {
  if (c === null || c === undefined || c === "") return "-";
  return String(c).replace(/\s*\n\s*/g, " ");
}

/** A job run's state in text, everywhere: the life-cycle state, then the result state when there is one. */
export function runState(lifeCycle: string | null | undefined, result: string | null | undefined): string {
  return [lifeCycle, result].filter((s) => s).join(" ");
}
