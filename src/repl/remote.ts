// The remote side of a session: the cluster check, execution contexts (create, wait, bootstrap, gone?),
// and dbxr's own hidden commands (the bootstrap, fetching a failed command's output). No session files.

import * as clusters from "../api/clusters.ts";
import * as commands from "../api/commands.ts";
import type { CommandStatusResponse, Language } from "../api/commands.ts";
import type { ApiClient } from "../api/http.ts";
import { BOOTSTRAP_SOURCE, readKeptTail } from "../assets/repl_protocol.ts";
import { isRunning } from "../clusters/find.ts";
import { getClusterOrThrow } from "../clusters/start.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError, isDbxrError } from "../errors.ts";
import { commandSchedule, poll, slowSchedule } from "../poll.ts";
import { Utf8Chunks } from "../utf8.ts";

export interface Remote {
  ctx: Ctx;
  client: ApiClient;
  clusterId: string;
}

/** ClusterNotRunning (with the command that starts it) unless the cluster can run commands. */
export async function requireRunningCluster(r: Remote): Promise<void> {
  const c = await getClusterOrThrow(r.client, r.clusterId);
  if (isRunning(c.state)) return;
  throw new DbxrError(
    "ClusterNotRunning",
    `Cluster ${r.clusterId} is not running (${c.state}${
      c.state_message ? `: ${c.state_message}` : ""
    }). Start it first.`,
    {
      hint: `dbxr cluster start ${r.clusterId} --wait`,
      details: { cluster_id: r.clusterId, state: c.state, state_message: c.state_message ?? "" },
    },
  );
}

const CONTEXT_LIMIT_TEXT = /too many execution contexts/i;

/**
 * Creates a context and waits until it is Running. A context that ends in Error (Databricks does this
 * under load) is destroyed and created again, a few times, as dbt-databricks does. The transient
 * ClusterNotReadyException right after a start is retried by the HTTP client.
 */
export async function createContext(r: Remote, language: Language, timeoutMs = 300_000): Promise<string> {
  for (let attempt = 1;; attempt++) {
    let id: string;
    try {
      // Detached: a context that the server created must get its id back, so that it can be destroyed.
      id = await commands.createContext(r.client, r.clusterId, language, { detached: true });
    } catch (e) {
      if (isDbxrError(e) && CONTEXT_LIMIT_TEXT.test(e.message)) {
        throw new DbxrError(
          "ContextLimitReached",
          `Cluster ${r.clusterId} has reached its execution context limit (145 on Databricks). Destroy unused ` +
            "sessions (dbxr destroy --project-dir DIR), or let `dbxr repl gc` destroy the contexts that dbxr " +
            "created and no session uses any more (add --idle HOURS for idle sessions too).",
          {
            hint: `dbxr repl gc --cluster-id ${r.clusterId} --dry-run`,
            details: e.details,
            cause: e,
          },
        );
      }
      throw e;
    }
    let outcome;
    let why = "";
    const progress = r.ctx.out.wait(`context ${id}`);
    try {
      outcome = await poll<string>(r.ctx, async () => {
        const s = await commands.contextStatus(r.client, r.clusterId, id, r.ctx.signal);
        if (s.status === "Running") return { done: true, value: "Running" };
        if (s.status === "Error") {
          // Databricks gives no reason; dbxr's emulator does (its python3 set-up), and it is worth showing.
          if (typeof s.emulator_error === "string") why = `: ${s.emulator_error}`;
          return { done: true, value: "Error" };
        }
        return { done: false, progress: s.status };
      }, { timeoutMs, schedule: slowSchedule, signal: r.ctx.signal, onPoll: progress.step });
      progress.end(outcome.done ? outcome.value : "not ready", outcome.elapsedMs);
    } catch (e) {
      // Interrupted (or failed) while waiting: never leave the context open on the cluster.
      await commands.destroyContext(r.client, r.clusterId, id, { detached: true }).catch(() => {});
      throw e;
    }
    if (outcome.done && outcome.value === "Running") return id;
    await commands.destroyContext(r.client, r.clusterId, id).catch(() => {});
    if (!outcome.done || attempt >= 3) {
      throw new DbxrError(
        "ApiError",
        outcome.done
          ? `Execution context on cluster ${r.clusterId} failed to start ${attempt} times${why || "."}`
          : `Execution context on cluster ${r.clusterId} was not ready after ${timeoutMs / 1000}s.`,
        { hint: `dbxr cluster get ${r.clusterId}`, details: { cluster_id: r.clusterId } },
      );
    }
  }
}

/** Runs one of dbxr's own commands to the end (not a user step: no files, no session record). */
export async function runHidden(
  r: Remote,
  contextId: string,
  code: string,
  timeoutMs = 120_000,
): Promise<CommandStatusResponse> {
  // Detached from Ctrl-C: after an interrupt dbxr still fetches what the cancelled command printed.
  const commandId = await commands.execute(r.client, {
    clusterId: r.clusterId,
    contextId,
    language: "python",
    command: code,
  }, { detached: true });
  const outcome = await poll<CommandStatusResponse>(r.ctx, async () => {
    const s = await commands.commandStatus(r.client, { clusterId: r.clusterId, contextId, commandId }, {
      detached: true,
    });
    return commands.TERMINAL_COMMAND_STATES.has(s.status) ? { done: true, value: s } : { done: false };
  }, { timeoutMs, schedule: commandSchedule });
  if (!outcome.done) {
    throw new DbxrError("ApiError", `dbxr's helper command did not finish within ${timeoutMs / 1000}s.`, {
      details: { command_id: commandId },
    });
  }
  return outcome.value;
}

/** Injects the bootstrap (sub_llm, sub_llm_batch, the output keeper). Python contexts only. */
export async function injectBootstrap(r: Remote, contextId: string): Promise<void> {
  const s = await runHidden(r, contextId, BOOTSTRAP_SOURCE);
  if (s.status !== "Finished" || s.results?.resultType === "error") {
    throw new DbxrError("Error", `Injecting the dbxr bootstrap failed: ${s.results?.summary ?? s.status}`, {
      details: { status: s.status, cause: s.results?.cause?.slice(0, 2000) },
    });
  }
}

/** Creates a context, and bootstraps it when it runs Python. */
/** `created` runs once the context exists, before its bootstrap (to record it where a crash cannot lose it). */
export async function openContext(
  r: Remote,
  language: Language,
  created?: (contextId: string) => Promise<void>,
): Promise<string> {
  const id = await createContext(r, language);
  try {
    await created?.(id);
    if (language === "python") await injectBootstrap(r, id);
    // Ctrl-C during the bootstrap (its requests are detached): the context is not wanted any more.
    r.ctx.signal.throwIfAborted();
  } catch (e) {
    await commands.destroyContext(r.client, r.clusterId, id, { detached: true }).catch(() => {});
    throw e;
  }
  return id;
}

/**
 * Is the context gone (evicted, destroyed, lost in a restart)? Asked of contexts/status, never guessed
 * from an error's text: any HTTP answer other than a live status means gone; network and auth failures
 * are not an answer and are rethrown.
 */
export async function isContextGone(r: Remote, contextId: string): Promise<boolean> {
  try {
    const s = await commands.contextStatus(r.client, r.clusterId, contextId);
    return s.status === "Error";
  } catch (e) {
    if (!isDbxrError(e)) throw e;
    if (["NetworkError", "HostNotAllowed", "AuthError", "PermissionDenied", "RateLimited"].includes(e.code)) {
      throw e;
    }
    const status = e.details.http_status;
    // A lost context answers 500 `ContextNotFound: …` (or 404); any other 5xx is the API having a bad
    // moment, which says nothing about the context (docs/databricks-behaviour.md §2.8).
    if (typeof status === "number" && status >= 500 && !/ContextNotFound/i.test(e.message)) throw e;
    return typeof status === "number";
  }
}

/**
 * How much of a failed command's output is fetched back: its last 4 MiB, where what led to the error
 * is. Compressed follow-ups bring text output back in a handful of round trips; output that does not
 * compress takes one per ~35 kB, so the bound also bounds the time (about 120 round trips at worst).
 */
export const RECOVERED_TAIL_BYTES = 4 * 1024 * 1024;

export interface RecoveredOutput {
  /** What the command printed (stdout and stderr in write order), with a marker where it was cut. */
  text: string;
  /** Part of it is not there: the start was left out here, or the bootstrap dropped the middle. */
  truncated: boolean;
  /** Bytes the command printed in all. */
  written: number;
  /** Follow-up commands it took. */
  requests: number;
}

/**
 * What a failed command printed before its exception. Databricks drops it from the error result; the
 * bootstrap kept a copy, and its END comes back here (zlib-compressed follow-ups, each under the API's
 * output limit). Undefined when the copy is not there (a non-Python context, or a restartPython wiped
 * it). Call it only once the command has ended: a follow-up would queue behind a running one.
 */
export async function recoverOutput(
  r: Remote,
  contextId: string,
  maxBytes = RECOVERED_TAIL_BYTES,
): Promise<RecoveredOutput | undefined> {
  const kept = await readKeptTail(async (command) => {
    const s = await runHidden(r, contextId, command, 30_000);
    if (s.results?.resultType !== "text") return null;
    const data = s.results.data;
    return typeof data === "string" ? data : data instanceof Utf8Chunks ? data.text() : null;
  }, maxBytes).catch(() => null);
  if (!kept) return undefined;
  let text = new TextDecoder().decode(kept.bytes);
  if (kept.start > 0) {
    const dropped = Math.max(0, kept.written - kept.bytes.length);
    text = `*** dbxr: ${dropped} bytes of output cut here: the command printed ${kept.written} bytes, ` +
      `the last ${kept.bytes.length} are kept below ***\n\n` + text;
  }
  return { text, truncated: kept.cut || kept.start > 0, written: kept.written, requests: kept.requests };
}

export async function clusterState(r: Remote): Promise<string> {
  const c = await clusters.getOrUndefined(r.client, r.clusterId);
  return c?.state ?? "NOT_FOUND";
}
