// The one error type of dbxr. Everything below main.ts throws DbxrError; main.ts prints it as one
// JSON object and exits with the code of docs/contract.md §6.

import { redactText } from "./api/redact.ts";
import { shellQuote } from "./shell.ts";

export const EXIT_CODES = {
  // 1: the remote work failed
  Error: 1,
  RunFailed: 1,
  PreflightFailed: 1,
  ApiError: 1,
  // 2: bad usage
  InvalidArgument: 2,
  FileNotFound: 2,
  // 3: credentials
  AuthError: 3,
  PermissionDenied: 3,
  // 4: nothing there
  NoSession: 4,
  NotFound: 4,
  ClusterNotFound: 4,
  NothingToCancel: 4,
  NothingToAwait: 4,
  // 5: busy or conflicting
  SessionExists: 5,
  SessionLocked: 5,
  SessionCorrupt: 5,
  /** exec while another command is active (its cmd_id, command_id and the await/cancel tip). */
  SessionBusy: 5,
  // 6: remote limits and state
  ClusterNotRunning: 6,
  ContextLimitReached: 6,
  RateLimited: 6,
  // 7: network
  NetworkError: 7,
  HostNotAllowed: 7,
  // 8: still running after a client-side timeout (cluster start --wait, job watch)
  Timeout: 8,
  // 9: replay needed
  ContextEvicted: 9,
  // 130: interrupted
  Cancelled: 130,
} as const;

export type ErrorCode = keyof typeof EXIT_CODES;

export interface ErrorExtra {
  /** A command that the user can run next. */
  hint?: string;
  details?: Record<string, unknown>;
  /** Extra top-level fields that a seed response carries (e.g. `tip` and `command_id` of `Running`). */
  fields?: Record<string, unknown>;
  /** The original error, kept for --debug; never printed in JSON. */
  cause?: unknown;
}

export class DbxrError extends Error {
  readonly hint?: string;
  readonly details: Record<string, unknown>;
  readonly fields: Record<string, unknown>;

  constructor(readonly code: ErrorCode, message: string, extra: ErrorExtra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = "DbxrError";
    this.hint = extra.hint;
    this.details = extra.details ?? {};
    this.fields = extra.fields ?? {};
  }

  /** A copy with a hint, for callers that know the next step better than the thrower. */
  withHint(hint: string): DbxrError {
    return new DbxrError(this.code, this.message, {
      hint,
      details: this.details,
      fields: this.fields,
      cause: this.cause,
    });
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }

  toJSON(): Record<string, unknown> {
    const o: Record<string, unknown> = { status: this.code, error: this.code, message: this.message };
    Object.assign(o, this.fields);
    if (this.hint) o.hint = this.hint;
    if (Object.keys(this.details).length > 0) o.details = this.details;
    return o;
  }
}

export function isDbxrError(e: unknown, code?: ErrorCode): e is DbxrError {
  return e instanceof DbxrError && (code === undefined || e.code === code);
}

/** Turns anything thrown into a DbxrError; unknown errors become ApiError-free "Error" without a stack. */
export function toDbxrError(e: unknown): DbxrError {
  if (e instanceof DbxrError) return e;
  if (e instanceof DOMException && e.name === "AbortError") {
    return new DbxrError("Cancelled", "Interrupted.", { cause: e });
  }
  if (e instanceof Deno.errors.NotCapable || (e instanceof Error && e.name === "NotCapable")) {
    return new DbxrError("HostNotAllowed", (e as Error).message, { cause: e });
  }
  // Deno's answer to a file call with "" as its path (`--out ""`, `--in ""`): the user's input, not a bug.
  if (e instanceof Error && /^Empty path is not allowed/.test(e.message)) {
    return new DbxrError("InvalidArgument", "A file or folder path is empty.", {
      details: { kind: e.name },
      cause: e,
    });
  }
  const local = localFileError(e);
  if (local) return local;
  // An unexpected error may quote what it choked on (fetch quotes a whole invalid header): redact it.
  const message = redactText(e instanceof Error ? e.message : String(e));
  return new DbxrError("Error", `internal error: ${message}`, {
    details: { kind: e instanceof Error ? e.name : typeof e },
    cause: e,
  });
}

/** Local file-system failures that the user can fix, and how to say them. */
const LOCAL_FILE_PROBLEMS: Array<[string, string]> = [
  ["NotADirectory", "a part of this path is a file, not a directory"],
  ["IsADirectory", "is a directory, not a file"],
  ["PermissionDenied", "permission denied"],
  ["AlreadyExists", "already exists"],
  ["FilesystemLoop", "too many levels of symbolic links"],
];

/**
 * A local file error (a file given as --project-dir, repl_outputs being a file, an unwritable folder) as the
 * usage error that it is (exit 2), naming the path that Deno names; undefined for anything else.
 */
export function localFileError(e: unknown): DbxrError | undefined {
  if (!(e instanceof Error)) return undefined;
  const problem = LOCAL_FILE_PROBLEMS.find(([name]) => e.name === name);
  if (!problem) return undefined;
  const path = /'([^']+)'\s*$/.exec(e.message)?.[1];
  return new DbxrError(
    "InvalidArgument",
    path
      ? `${path}: ${problem[1]} (${e.message.replace(/:\s*\w+ '[^']+'\s*$/, "")})`
      : `${problem[1]}: ${e.message}`,
    {
      hint: path ? `ls -ld ${shellQuote(path)}` : undefined,
      details: { kind: e.name, ...(path ? { path } : {}) },
      cause: e,
    },
  );
}
