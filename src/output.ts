// The one output writer (docs/contract.md §2). Data goes to stdout as JSON or text; progress,
// warnings and --debug traces go to stderr. Only this file and main.ts may write to the terminal.

import type { DbxrError } from "./errors.ts";
import { ansiStyle, plainStyle, type Style } from "./table.ts";

export type { Style } from "./table.ts";

export type Format = "json" | "text";

export interface OutputSinks {
  stdout(text: string): void;
  stderr(text: string): void;
  stdoutIsTty: boolean;
  stderrIsTty: boolean;
  /** DBXR_OUTPUT, if set. */
  envFormat?: string;
  /** The terminal's width when stdout is a terminal. */
  columns?: number;
  /** NO_COLOR, if set: any non-empty value turns colours off (https://no-color.org). */
  noColor?: string;
}

export interface ResultOptions<T> {
  /** Text renderer; without one, text mode prints JSON too. `style` colours (or not) as the terminal allows. */
  text?: (data: T, style: Style) => string;
  /** Seed commands print JSON on a TTY and under DBXR_OUTPUT=text too, as the seed did; only --text switches. */
  alwaysJson?: boolean;
  /** Exit code for a result that is not an error but not plain success (8 for `Running`). */
  exitCode?: number;
}

/** See Output.wait. */
export interface WaitProgress {
  /** Called on every poll with the current state. */
  step(text: string | undefined, elapsedMs: number): void;
  /** Called once when the wait ends with its final state (undefined: nothing to add). */
  end(text: string | undefined, elapsedMs: number): void;
}

/** Width for --help on a terminal of `columns` (undefined: not a terminal): at most 120, at least 40. */
export function helpWidthFor(columns: number | undefined): number {
  if (!columns || !Number.isFinite(columns) || columns <= 0) return 80;
  return Math.max(40, Math.min(120, Math.floor(columns)));
}

export class Output {
  /** Set from --json / --text; beats everything. */
  flagFormat?: Format;
  debugEnabled = false;
  exitCode = 0;
  #sinks: OutputSinks;

  constructor(sinks: OutputSinks) {
    this.#sinks = sinks;
  }

  /**
   * The format for a command's data: --json/--text, then JSON for the seed's commands (an agent's shell
   * may carry a person's DBXR_OUTPUT=text; only the flag switches them), then DBXR_OUTPUT, then the TTY.
   */
  format(alwaysJson = false): Format {
    if (this.flagFormat) return this.flagFormat;
    if (alwaysJson) return "json";
    const env = this.#sinks.envFormat?.toLowerCase();
    if (env === "json" || env === "text") return env;
    return this.#sinks.stdoutIsTty ? "text" : "json";
  }

  result<T>(data: T, opts: ResultOptions<T> = {}): void {
    if (this.format(opts.alwaysJson) === "text" && opts.text) {
      const text = opts.text(data, this.style);
      this.#sinks.stdout(text.endsWith("\n") || text === "" ? text : text + "\n");
    } else {
      this.#sinks.stdout(JSON.stringify(data, null, 2) + "\n");
    }
    if (opts.exitCode !== undefined) this.exitCode = opts.exitCode;
  }

  /** Help and version text from commander: plain text on stdout. */
  raw(text: string): void {
    this.#sinks.stdout(text);
  }

  error(err: DbxrError): void {
    this.#sinks.stdout(JSON.stringify(err.toJSON(), null, 2) + "\n");
    if (this.format() === "text") {
      this.#sinks.stderr(
        `${this.errStyle.state("Error")}: ${err.message}${err.hint ? `\n  next: ${err.hint}` : ""}\n`,
      );
    }
    this.exitCode = err.exitCode;
  }

  /** Colours for stdout: only on a terminal, never with NO_COLOR. */
  get colors(): boolean {
    return this.#sinks.stdoutIsTty && !this.#sinks.noColor;
  }

  /** How text on stdout is styled. */
  get style(): Style {
    return this.colors ? ansiStyle : plainStyle;
  }

  /** How progress on stderr is styled. */
  get errStyle(): Style {
    return this.#sinks.stderrIsTty && !this.#sinks.noColor ? ansiStyle : plainStyle;
  }

  /** Width for --help: the terminal's (at most 120), else 80. */
  get helpWidth(): number {
    return helpWidthFor(this.#sinks.stdoutIsTty ? this.#sinks.columns : undefined);
  }

  /**
   * Progress of one wait (a cluster starting, a run, a command): silent for the first second, then a
   * line per state change, and a last line with the final state when the wait ends. On stderr, when it
   * is a terminal; `always` shows every state, from the start, wherever stderr goes (job runs: a CI log
   * should show them).
   */
  wait(label: string, opts: { always?: boolean; afterMs?: number } = {}): WaitProgress {
    const show = (line: string) => opts.always ? this.info(line) : this.progress(line);
    // A CI log gets every state of a job run; a terminal only waits that last (short ones stay quiet).
    const afterMs = opts.afterMs ?? (opts.always ? 0 : 1_000);
    const st = () => this.errStyle;
    let shown = false;
    let last: string | undefined;
    const line = (text: string, ms: number) => `${label}: ${st().state(text)} (${Math.round(ms / 1000)}s)`;
    return {
      step(text, ms) {
        if (text === undefined || ms < afterMs || text === last) return;
        last = text;
        shown = true;
        show(line(text, ms));
      },
      end(text, ms) {
        if (shown && text !== undefined) show(line(text, ms));
      },
    };
  }

  /** A progress line; shown only when stderr is a terminal, so pipes and CI logs stay clean. */
  progress(line: string): void {
    if (this.#sinks.stderrIsTty) this.#sinks.stderr(line + "\n");
  }

  /** A progress line that is always shown (for long waits where silence would worry a CI log). */
  info(line: string): void {
    this.#sinks.stderr(line + "\n");
  }

  warn(line: string): void {
    this.#sinks.stderr(`warning: ${line}\n`);
  }

  debug(line: string): void {
    if (this.debugEnabled) this.#sinks.stderr(`[debug] ${line}\n`);
  }

  get stderrIsTty(): boolean {
    return this.#sinks.stderrIsTty;
  }
}
