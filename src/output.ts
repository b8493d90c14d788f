// The one output writer (docs/contract.md §2). Data goes to stdout as JSON or text; progress,
// warnings and --debug traces go to stderr. Only this file and main.ts may write to the terminal.

import type { DbxrError } from "./errors.ts";

export type Format = "json" | "text";

export interface OutputSinks {
  stdout(text: string): void;
  stderr(text: string): void;
  stdoutIsTty: boolean;
  stderrIsTty: boolean;
  /** DBXR_OUTPUT, if set. */
  envFormat?: string;
}

export interface ResultOptions<T> {
  /** Text renderer; without one, text mode prints JSON too. */
  text?: (data: T) => string;
  /** Seed commands print JSON on a TTY too, as the seed did. */
  alwaysJson?: boolean;
  /** Exit code for a result that is not an error but not plain success (8 for `Running`). */
  exitCode?: number;
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

  /** The format for a command's data: flag, then DBXR_OUTPUT, then JSON for seed commands or pipes. */
  format(alwaysJson = false): Format {
    if (this.flagFormat) return this.flagFormat;
    const env = this.#sinks.envFormat?.toLowerCase();
    if (env === "json" || env === "text") return env;
    if (alwaysJson) return "json";
    return this.#sinks.stdoutIsTty ? "text" : "json";
  }

  result<T>(data: T, opts: ResultOptions<T> = {}): void {
    if (this.format(opts.alwaysJson) === "text" && opts.text) {
      const text = opts.text(data);
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
      this.#sinks.stderr(`Error: ${err.message}${err.hint ? `\n  next: ${err.hint}` : ""}\n`);
    }
    this.exitCode = err.exitCode;
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
