// session.json on disk: read (with migration and quarantine of corrupt files), atomic write, and the
// lock that serialises read-modify-write across processes. It knows nothing about HTTP: callers hold
// the lock only around reading, deciding and writing (and a quick submit), never while polling.

import { join } from "../paths.ts";
import { DbxrError } from "../errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { OUTPUT_DIR } from "./files.ts";
import { migrate } from "./migrate.ts";
import { serializeSession, type Session, SESSION_VERSION, validateSession } from "./schema.ts";
import { fileStamp } from "./time.ts";
import { CREATE_HINT } from "./transitions.ts";
import { shellQuote } from "../shell.ts";
import { mark } from "../trace.ts";

export const SESSION_FILE = "session.json";
export const LOCK_FILE = ".session.lock";
export const DEFAULT_LOCK_TIMEOUT_MS = 5000;

export interface SessionStoreOptions {
  /** Epoch ms, for the names of archived and quarantined files (ctx.now). */
  now: () => number;
  /** How long to wait for another process's lock before SessionLocked. */
  lockTimeoutMs?: number;
}

export interface SubmitLock {
  /** `repl_outputs/.NNN.submit.lock`, relative to the project dir (recorded in active_command). */
  rel: string;
  /** Unlocks and removes the file; idempotent. */
  release(): Promise<void>;
}

export interface LoadedSession {
  session: Session;
  /** The version on disk: 0 for a file that the seed's tool wrote (migrated on the next write). */
  fromVersion: number;
}

/**
 * One project folder's session.json and its lock. A store belongs to one async flow: each command (and
 * each MCP tool call) makes its own with storeFor/openRepl and uses it one call after the other, never
 * from two flows at once; withLock's re-entrancy rests on that. Two flows in one process (concurrent MCP
 * calls, tests) each have their own store, and the kernel lock keeps them apart as it keeps processes
 * apart (two descriptors of one file conflict). (A poll check that poll() abandons at the deadline may go
 * on with its command's store, but that command has answered by then and takes no lock on it any more.)
 */
export class SessionStore {
  readonly projectDir: string;
  readonly sessionFile: string;
  readonly outputDir: string;
  readonly lockFile: string;
  readonly #now: () => number;
  readonly #lockTimeoutMs: number;
  /** Whether this store holds the project's lock now (see withLock). */
  #held = false;

  constructor(projectDir: string, opts: SessionStoreOptions) {
    this.projectDir = projectDir;
    this.sessionFile = join(projectDir, SESSION_FILE);
    this.outputDir = join(projectDir, OUTPUT_DIR);
    this.lockFile = join(projectDir, LOCK_FILE);
    this.#now = opts.now;
    this.#lockTimeoutMs = opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  }

  /** Creates the project dir and repl_outputs/ when missing. */
  async ensureDirs(): Promise<void> {
    await Deno.mkdir(this.outputDir, { recursive: true });
  }

  async exists(): Promise<boolean> {
    try {
      await Deno.lstat(this.sessionFile);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }

  /** The session, migrated in memory; NoSession when there is none, SessionCorrupt when unreadable. */
  async read(): Promise<Session> {
    return (await this.load()).session;
  }

  async readIfExists(): Promise<Session | undefined> {
    return (await this.#load())?.session;
  }

  async load(): Promise<LoadedSession> {
    const loaded = await this.#load();
    if (!loaded) throw this.#noSession();
    return loaded;
  }

  /** Atomic: temp file in the project dir, fsync, rename. Always writes the current version. */
  async write(session: Session): Promise<void> {
    const problems = validateSession(session);
    if (problems.length > 0) {
      // A bug upstream; writing would turn it into a corrupt file for the next call.
      throw new DbxrError("Error", `internal error: refusing to write an invalid session.json`, {
        details: { problems },
      });
    }
    await Deno.mkdir(this.projectDir, { recursive: true });
    await writeFileAtomic(this.sessionFile, serializeSession(session));
  }

  /** Lock, read, apply fn, write atomically, unlock. fn must not wait on the network. */
  async update(fn: (s: Session) => Session | Promise<Session>): Promise<Session> {
    // No lock file (and no project dir) is created just to report that there is no session.
    if (!(await this.exists())) throw this.#noSession();
    return await this.withLock(async () => {
      const next = await fn(await this.read());
      await this.write(next);
      return next;
    });
  }

  /**
   * Runs fn holding the project's lock: an exclusive `Deno.FsFile#lock` on `.session.lock`, which the
   * kernel drops when the holder dies (kill -9 never leaves a stale lock). Waits at most
   * lockTimeoutMs, then SessionLocked.
   *
   * Re-entrant: while this store holds the lock, a withLock of this store (update, read's quarantine, a
   * finalize or an eviction recovery decided under exec's lock) runs fn at once instead of waiting for
   * itself (flock locks conflict between two descriptors of one process). A flag is enough, without an
   * async context (node:async_hooks costs start-up time, issue 9 §3): a store serves one async flow (see
   * the class), so a call on it during the hold can only come from inside fn. It is even tighter than an
   * async context: a promise started inside fn that outlives the hold takes the lock anew, where an
   * inherited context would let it write unlocked.
   */
  async withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.#held) return await fn();
    await Deno.mkdir(this.projectDir, { recursive: true });
    // A separate file, never deleted: locking session.json itself would be lost at each rename.
    mark("lock:wait");
    const file = await Deno.open(this.lockFile, { read: true, write: true, create: true });
    try {
      await this.#acquire(file);
      mark("lock:held");
      this.#held = true;
      try {
        return await fn();
      } finally {
        this.#held = false;
        await file.unlock();
        mark("lock:released");
      }
    } finally {
      file.close();
    }
  }

  /**
   * Takes the submit lock of a step: `repl_outputs/.NNN.submit.lock`, held exclusively by the exec
   * process from before it records the step until the API has given the command id. The kernel drops
   * the lock when the process dies, so another process tells "being submitted" from "in doubt" by
   * trying it (submitterAlive), never by guessing from time. Returns the project-relative path.
   */
  async holdSubmitLock(step: number): Promise<SubmitLock> {
    await this.ensureDirs();
    const rel = `${OUTPUT_DIR}/.${String(step).padStart(3, "0")}.submit.lock`;
    const path = join(this.projectDir, rel);
    const file = await Deno.open(path, { read: true, write: true, create: true });
    if (!(await file.tryLock(true))) {
      file.close();
      throw new DbxrError("SessionLocked", `Step ${step} is being submitted by another dbxr process.`, {
        hint: `dbxr status --project-dir ${shellQuote(this.projectDir)}`,
        details: { lock_file: path },
      });
    }
    let released = false;
    return {
      rel,
      release: async () => {
        if (released) return;
        released = true;
        // Unlock before removing (Windows cannot remove an open file); callers hold the session lock,
        // under which alone others look at this file.
        await file.unlock().catch(() => {});
        file.close();
        await Deno.remove(path).catch(() => {});
      },
    };
  }

  /**
   * Whether a live process holds the submit lock `rel` (see holdSubmitLock). False when the file is
   * missing (a dbxr that did not write one, or a holder that finished) or nobody holds it. Call it
   * under withLock: that is where holders take and drop it.
   */
  async submitterAlive(rel: string | undefined): Promise<boolean> {
    if (!rel || !/^repl_outputs\/\.\d+\.submit\.lock$/.test(rel)) return false;
    let file: Deno.FsFile;
    try {
      file = await Deno.open(join(this.projectDir, rel), { read: true, write: true });
    } catch {
      return false;
    }
    try {
      if (!(await file.tryLock(true))) return true;
      await file.unlock();
      return false;
    } finally {
      file.close();
    }
  }

  /** Removes a submit lock file that its dead holder left (after the in-doubt step is cleared). */
  async removeSubmitLock(rel: string | undefined): Promise<void> {
    if (!rel || !/^repl_outputs\/\.\d+\.submit\.lock$/.test(rel)) return;
    await Deno.remove(join(this.projectDir, rel)).catch(() => {});
  }

  /**
   * For `create --force`: renames session.json to `session.<timestamp>.json` (never over an existing
   * file). Returns the new path, or undefined when there was no session file. Call it under withLock.
   */
  async archive(): Promise<string | undefined> {
    if (!(await this.exists())) return undefined;
    const stamp = fileStamp(this.#now());
    const target = await freeName((n) =>
      join(this.projectDir, `session.${stamp}${n > 1 ? `-${n}` : ""}.json`)
    );
    await Deno.rename(this.sessionFile, target);
    return target;
  }

  async #acquire(file: Deno.FsFile): Promise<void> {
    // tryLock in a loop rather than lock(): a blocked lock() cannot be abandoned after a timeout.
    const deadline = performance.now() + this.#lockTimeoutMs;
    let pause = 5;
    while (!(await file.tryLock(true))) {
      if (performance.now() >= deadline) {
        throw new DbxrError(
          "SessionLocked",
          `session.json in ${this.projectDir} is locked by another dbxr process (waited ${
            Math.round(this.#lockTimeoutMs / 100) / 10
          }s).`,
          {
            hint: `dbxr status --project-dir ${shellQuote(this.projectDir)}`,
            details: { lock_file: this.lockFile, waited_ms: this.#lockTimeoutMs },
          },
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(1, deadline - performance.now()))));
      pause = Math.min(50, pause * 1.5);
    }
  }

  async #load(attempt = 0): Promise<LoadedSession | undefined> {
    mark("session:read");
    let bytes: Uint8Array;
    try {
      // Only a regular file is read: a FIFO would block the read forever (past SIGTERM), and a symlink
      // could make an error message quote some other file; dbxr itself only ever writes regular files.
      const info = await Deno.lstat(this.sessionFile);
      if (!info.isFile) throw this.#notRegular(info);
      bytes = await Deno.readFile(this.sessionFile);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
    let problems: string[];
    try {
      const r = migrate(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)));
      if (r.ok) return { session: r.session, fromVersion: r.fromVersion };
      if (r.reason === "newer") {
        // Not corrupt: a later dbxr wrote it. Leave it exactly where it is.
        throw new DbxrError(
          "InvalidArgument",
          `session.json in ${this.projectDir} has version ${r.version}; this dbxr reads up to version ${SESSION_VERSION}.`,
          { hint: "dbxr --version", details: { session_file: this.sessionFile, version: r.version } },
        );
      }
      problems = r.problems;
    } catch (e) {
      if (e instanceof DbxrError) throw e;
      problems = [notJson(e)];
    }
    const movedTo = await this.#quarantine(bytes);
    if (movedTo === undefined) {
      // Replaced or removed since it was read: judge what is there now.
      if (attempt < 3) return await this.#load(attempt + 1);
      throw new DbxrError(
        "SessionLocked",
        `session.json in ${this.projectDir} kept changing while being read.`,
        {
          hint: `dbxr status --project-dir ${shellQuote(this.projectDir)}`,
        },
      );
    }
    throw new DbxrError(
      "SessionCorrupt",
      `session.json in ${this.projectDir} could not be read (${problems[0]}); it was moved to ${movedTo}.`,
      { hint: CREATE_HINT, details: { session_file: this.sessionFile, moved_to: movedTo, problems } },
    );
  }

  /**
   * Moves an unreadable session.json aside, never overwriting and never deleting anything. Returns
   * undefined when the file is no longer the one that was judged (another process replaced it).
   */
  async #quarantine(judged: Uint8Array): Promise<string | undefined> {
    return await this.withLock(async () => {
      let now: Uint8Array;
      try {
        now = await Deno.readFile(this.sessionFile);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      }
      if (!sameBytes(now, judged)) return undefined;
      const stamp = fileStamp(this.#now());
      const target = await freeName((n) =>
        join(this.projectDir, `${SESSION_FILE}.corrupt-${stamp}${n > 1 ? `-${n}` : ""}`)
      );
      await Deno.rename(this.sessionFile, target);
      return target;
    });
  }

  #notRegular(info: Deno.FileInfo): DbxrError {
    const kind = info.isSymlink
      ? "a symbolic link"
      : info.isDirectory
      ? "a directory"
      : info.isFifo
      ? "a FIFO"
      : info.isSocket
      ? "a socket"
      : "not a regular file";
    return new DbxrError(
      "InvalidArgument",
      `session.json in ${this.projectDir} is ${kind}, not a regular file; move it away to start a new session.`,
      { hint: `ls -l ${shellQuote(this.sessionFile)}`, details: { session_file: this.sessionFile } },
    );
  }

  #noSession(): DbxrError {
    return new DbxrError("NoSession", `No session.json found in ${this.projectDir}. Run 'create' first.`, {
      hint: CREATE_HINT,
      details: { project_dir: this.projectDir },
    });
  }
}

async function freeName(candidate: (n: number) => string): Promise<string> {
  for (let n = 1;; n++) {
    const path = candidate(n);
    try {
      await Deno.lstat(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return path;
      throw e;
    }
  }
}

/** Why a file is not JSON, without quoting its bytes (which could be anything, a secret included). */
function notJson(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof TypeError) return "not UTF-8 text";
  const at = /position (\d+)/.exec(message)?.[1];
  if (/end of JSON input/i.test(message)) return "not valid JSON (it ends too early)";
  return `not valid JSON${at !== undefined ? ` (at byte ${at})` : ""}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
