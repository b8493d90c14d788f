// exec and await: run a step on the session's context and record it, never losing code or output.
//
// Every read-modify-write of session.json decides under the lock, on what it reads there: settle a stale
// command + record the step (phase 1), record the command id (phase 3), finalise. The lock is never held
// while waiting, not even during the submit (phase 2), so `cancel`, `await` and `status` work from another
// terminal meanwhile; while it submits, this process holds the step's submit lock (store.ts), so that a
// command is called in doubt only when the process that submitted it is really gone. Phase 3 runs while
// the first status poll goes out (polls only read; what they see is acted on once phase 3 is done), so
// that a short command's answer does not wait for the record's fsyncs.
// A kill -9 at any moment leaves either no active command, an in-doubt one (recorded, maybe not
// submitted: the .cmd file exists), or a submitted one that the next await/exec/status finalises.

import * as commands from "../api/commands.ts";
import type { CommandStatusResponse, Language } from "../api/commands.ts";
import { DbxrError, isDbxrError } from "../errors.ts";
import { commandSchedule, poll } from "../poll.ts";
import { filesOf, highestStepOnDisk, type StepFiles } from "../session/files.ts";
import { preview, stderrPreview, writeCommandFile, writeStepOutputs } from "../session/outputs.ts";
import type { ActiveCommand, Session, StepRecord } from "../session/schema.ts";
import type { SubmitLock } from "../session/store.ts";
import { elapsedSeconds, isoUtc, parseIso } from "../session/time.ts";
import {
  busyError,
  classifyActive,
  finishStep,
  markSubmitted,
  runningTip,
  startStep,
} from "../session/transitions.ts";
import type { MappedResult } from "./results.ts";
import { type ReplEnv, shownPath } from "./env.ts";
import { mark } from "../trace.ts";

/**
 * What exec needs only once a command has ended or failed: result parsing, output recovery, eviction
 * recovery (and with them the bootstrap asset and the cluster modules). Imported lazily, started while the
 * process waits for the command (poll's idle time), so that loading them is not part of the time before
 * the submit; a path that needs them earlier (a stale command in phase 1, a failed submit) awaits them.
 */
let afterwardsLoad: Promise<Afterwards> | undefined;
type Afterwards =
  & typeof import("./results.ts")
  & typeof import("./remote.ts")
  & typeof import("./eviction.ts");
export function afterwards(): Promise<Afterwards> {
  afterwardsLoad ??= Promise.all([import("./results.ts"), import("./remote.ts"), import("./eviction.ts")])
    .then(([results, remote, eviction]) => ({ ...results, ...remote, ...eviction }));
  return afterwardsLoad;
}

export interface ExecResponse {
  cmd_id: string;
  status: string;
  stdout_file?: string;
  stderr_file?: string;
  stdout_bytes?: number;
  stderr_bytes?: number;
  stdout_preview?: string;
  stderr_preview?: string;
  elapsed_seconds: number;
  command_id?: string;
  message?: string;
  tip?: { await: string; cancel: string };
  result_type?: string;
  truncated?: boolean;
  result_file?: string;
  [k: string]: unknown;
}

export interface ExecResult {
  response: ExecResponse | Record<string, unknown>;
  exitCode: number;
}

export interface ExecOptions {
  code: string;
  tag: string;
  timeoutSeconds: number;
  previewChars: number;
  /** exec --no-replay (false) / --replay-safe (true), recorded in the step. */
  replay?: boolean;
  /** Set by `dbxr repl replay`: the recorded step this one re-runs. */
  replayOf?: number;
}

const EXIT_FOR: Record<string, number> = { Finished: 0, Error: 1, Cancelled: 130, Running: 8 };

export async function execStep(env: ReplEnv, o: ExecOptions): Promise<ExecResult> {
  const { store, remote } = env;
  let active!: ActiveCommand;
  let files!: StepFiles;
  let language!: Language;
  let session!: Session;
  let submitLock: SubmitLock | undefined;
  mark("exec:phase1");

  // Phase 1, under the lock: settle a stale command, record the step, write its code. The submit lock
  // (held by this process until the command id is recorded) tells others that the step is being
  // submitted, not in doubt.
  const early = await store.withLock(async (): Promise<ExecResult | undefined> => {
    // The scan of repl_outputs/ does not depend on session.json (step files, like session.json, change
    // only under this lock): both are read at once; the scan is redone when an earlier command is
    // finalised here (that writes its files).
    let highestOnDisk: number;
    [session, highestOnDisk] = await Promise.all([env.loadSession(), highestStepOnDisk(store.projectDir)]);
    const c = classifyActive(session);
    let evicted: ExecResult | undefined;
    if (c.kind === "pending") {
      // A command from an earlier call: finalise it if it has ended, else this exec must wait.
      const s = await statusOrEviction(env, session, c.command_id, (r) => evicted = r);
      if (s && "transient" in s) throw s.transient; // cannot tell whether the earlier command has ended
      if (s && commands.TERMINAL_COMMAND_STATES.has(s.status)) {
        await finalize(env, c.active, s, o.previewChars);
      } else if (s) {
        throw busyError(session, env.projectDirLabel);
      } // else finalised as evicted by statusOrEviction
      [session, highestOnDisk] = await Promise.all([env.loadSession(), highestStepOnDisk(store.projectDir)]);
    } else if (c.kind === "in-doubt") {
      throw busyError(session, env.projectDirLabel, await store.submitterAlive(c.active.submit_lock));
    }
    const started = startStep(session, {
      tag: o.tag,
      now: env.ctx.now(),
      highestOnDisk,
      projectDir: env.projectDirLabel,
      ...(o.replay !== undefined ? { replay: o.replay } : {}),
      ...(o.replayOf !== undefined ? { replay_of: o.replayOf } : {}),
    });
    ({ active, files } = started);
    language = active.language as Language;
    // The code before the record: if we die after this, the step number is only skipped, never reused.
    // The submit lock is taken meanwhile (a separate file; the kernel drops it if we die), and both are in
    // place before session.json records the step.
    const [wrote, locked] = await Promise.allSettled([
      writeCommandFile(store.projectDir, files, o.code),
      evicted ? Promise.resolve(undefined) : store.holdSubmitLock(active.step),
    ]);
    if (wrote.status === "rejected" || locked.status === "rejected") {
      if (locked.status === "fulfilled") await locked.value?.release();
      throw wrote.status === "rejected" ? wrote.reason : (locked as PromiseRejectedResult).reason;
    }
    if (evicted) {
      // The earlier command's context is gone: this one is not run on the fresh context, whose state
      // would silently differ; it is recorded as ContextEvicted and the replay plan is returned.
      const now = env.ctx.now();
      await store.write(
        finishStep(started.session, {
          status: "ContextEvicted",
          finished_at: isoUtc(now),
          elapsed_seconds: 0,
        })
          .session,
      );
      return evicted;
    }
    submitLock = locked.value!;
    active = { ...active, pid: Deno.pid, submit_lock: submitLock.rel };
    session = { ...started.session, active_command: active };
    await store.write(session);
    return undefined;
  });
  if (early) return early;

  // Phase 2, without the lock, so that cancel, await and status answer meanwhile (a slow submit).
  // Detached from Ctrl-C: once recorded, the submit is completed so that the command has an id that
  // the interrupt handling can cancel, instead of leaving an in-doubt record behind.
  let commandId: string | undefined;
  let submitError: unknown;
  mark("exec:submit");
  try {
    commandId = await commands.execute(remote.client, {
      clusterId: session.cluster_id,
      contextId: session.context_id,
      language,
      command: o.code,
    }, { detached: true });
  } catch (e) {
    submitError = e;
  }

  // Phase 3, under the lock: decide on what the session says now (a cancel may have been requested,
  // a destroy or create --force may have ended the step meanwhile).
  mark("exec:phase3");
  const clusterId = session.cluster_id; // of the session that phase 1 recorded the step in
  let cancelRequested = false;
  const phase3 = withLockPersistently(env, async (): Promise<ExecResult | undefined> => {
    try {
      const now = await env.loadSession();
      const mine = now.active_command?.step === active.step && now.context_id === active.context_id &&
        now.active_command.command_id === undefined;
      if (!mine) {
        // Our step was ended by another process (destroy, create --force): whatever we submitted has
        // no session any more; stop it (best effort) and answer with what was recorded.
        if (commandId !== undefined) {
          await commands.cancel(remote.client, {
            clusterId: session.cluster_id,
            contextId: session.context_id,
            commandId,
          }, { detached: true }).catch(() => {});
        }
        const record = now.steps.find((st) => st.step === active.step);
        if (record && now.context_id === active.context_id) {
          return await responseFromRecord(env, record, files, o.previewChars);
        }
        throw replacedError(env, active);
      }
      if (commandId === undefined) return await submitFailed(env, now, active, submitError);
      cancelRequested = now.active_command?.cancel_requested === true;
      session = markSubmitted(now, commandId);
      await store.write(session);
      return undefined;
    } finally {
      await submitLock?.release();
    }
  });
  if (commandId === undefined) {
    const after = await phase3;
    // submitFailed answers or throws; an undefined here would be a bug, not a command to wait for.
    if (after) return after;
    throw new DbxrError("Error", "internal error: a failed submit was not recorded");
  }
  const recorded = phase3.then(async (after) => {
    if (after) return after;
    mark("exec:recorded");
    if (cancelRequested) {
      // `dbxr cancel` came while we submitted: it is waiting for this id, and we send the cancel too.
      await commands.cancel(remote.client, {
        clusterId: session.cluster_id,
        contextId: session.context_id,
        commandId: commandId!,
      }, { detached: true }).catch(() => {});
    }
    return undefined;
  });
  // The wait starts while phase 3 records the command id: its first status requests only read, and every
  // decision on what they return (finalize, eviction, Running, Ctrl-C) waits for phase 3 (waitAndFinalize).
  // A kill -9 meanwhile leaves what it left before: the id recorded or not (in doubt), nothing else.
  mark("exec:wait");
  // What finalize needs loads while phase 3 waits on its fsyncs and the first poll on the network: a command
  // that has ended by the first poll (a short one) finds it loaded.
  void afterwards();
  return await waitAndFinalize(env, active, clusterId, commandId, o.timeoutSeconds, o.previewChars, recorded);
}

/**
 * withLock for a decision that must be recorded (a command id that only this process knows): waits out
 * another process's long hold (an eviction recovery opening a context) instead of giving up at the first
 * SessionLocked, for up to a minute.
 */
async function withLockPersistently<T>(env: ReplEnv, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await env.store.withLock(fn);
    } catch (e) {
      if (!isDbxrError(e, "SessionLocked") || attempt >= 12) throw e;
    }
  }
}

function replacedError(env: ReplEnv, active: ActiveCommand): DbxrError {
  return new DbxrError(
    "ContextEvicted",
    `The session's execution context changed while ${filesOf(active, active.language).cmd_id} ran ` +
      "(another dbxr process replaced it); this command's context is gone.",
    {
      hint: `dbxr status --project-dir ${env.projectDirQuoted}`,
      details: { context_id: active.context_id },
    },
  );
}

/** await: poll the active command again with a fresh timeout. */
export async function awaitStep(
  env: ReplEnv,
  timeoutSeconds: number,
  previewChars: number,
): Promise<ExecResult> {
  const deadline = performance.now() + timeoutSeconds * 1000;
  for (let looped = false;; looped = true) {
    const { session, alive } = await env.store.withLock(async () => {
      const session = await env.loadSession();
      const a = session.active_command;
      const alive = a !== undefined && a.command_id === undefined &&
        await env.store.submitterAlive(a.submit_lock);
      return { session, alive };
    });
    const c = classifyActive(session);
    if (c.kind === "none") {
      throw new DbxrError("NothingToAwait", "No active command to await.", {
        hint: `dbxr status --project-dir ${env.projectDirQuoted}`,
      });
    }
    if (c.kind === "in-doubt" && alive && performance.now() < deadline && !env.ctx.signal.aborted) {
      // Another dbxr process is submitting it: its command id comes in a moment.
      await env.ctx.sleep(100, env.ctx.signal).catch(() => {});
      continue;
    }
    if (c.kind === "in-doubt") {
      throw new DbxrError(
        "NothingToAwait",
        alive
          ? `Command ${c.files.cmd_id} is still being submitted by another dbxr process; await it again in a moment.`
          : `Command ${c.files.cmd_id} was being submitted when its dbxr process stopped; there is no command id to await. ` +
            "It may or may not have run: cancel it to clear it, then run it again if needed.",
        {
          hint: runningTip(env.projectDirLabel).cancel,
          details: { cmd_id: c.files.cmd_id, step: c.active.step },
        },
      );
    }
    const left = looped ? Math.max(1, Math.round((deadline - performance.now()) / 1000)) : timeoutSeconds;
    return await waitAndFinalize(env, c.active, session.cluster_id, c.command_id, left, previewChars);
  }
}

/** Why exec's wait stopped before deciding anything: phase 3 answered (or failed) instead. */
const PHASE3_ANSWERED = new DOMException("exec's phase 3 answered", "AbortError");

/**
 * Polls the command until it ends, then finalizes it. `recorded` is exec's phase 3 (the command id being
 * recorded under the lock), which runs while the first status request goes out: that request only reads,
 * and nothing is decided on what it returns (finalize, eviction recovery, Running, the Ctrl-C handling),
 * nor is the session store touched, before phase 3 is done; when phase 3 answers itself (the step was
 * ended by another process) or fails, that is the answer and the poll's finding is dropped.
 */
async function waitAndFinalize(
  env: ReplEnv,
  active: ActiveCommand,
  clusterId: string,
  commandId: string,
  timeoutSeconds: number,
  previewChars: number,
  recorded: Promise<ExecResult | undefined> = Promise.resolve(undefined),
): Promise<ExecResult> {
  const { ctx } = env;
  const startedAt = parseIso(active.started_at) ?? ctx.now();
  let last: CommandStatusResponse | undefined;
  let evicted: ExecResult | undefined;
  // Status polls that fail transiently (a 500, a dropped connection) do not end the wait: the command
  // runs on regardless. Only when they have failed for POLL_FAILURE_BUDGET_MS in a row does the wait stop,
  // as Running: the step stays active and `dbxr await` picks it up.
  let failingSince: number | undefined;
  let failures = 0;
  let lastFailure: DbxrError | undefined;
  let gaveUp = false;
  const progress = ctx.out.wait(filesOf(active, active.language).cmd_id);
  let phase3: { answer: ExecResult } | { error: unknown } | undefined;
  const stop = new AbortController();
  const phase3Done = recorded.then(
    (answer) => {
      if (answer) phase3 = { answer };
    },
    (error) => {
      phase3 = { error };
    },
  ).finally(() => {
    if (phase3) stop.abort(PHASE3_ANSWERED);
  });
  const phase3Outcome = (): ExecResult => {
    if (phase3 && "error" in phase3) throw phase3.error;
    progress.end(String(phase3!.answer.response.status), ctx.now() - startedAt);
    return phase3!.answer;
  };
  try {
    const outcome = await poll<CommandStatusResponse>(ctx, async () => {
      // The status request goes out at once, with the ids the command was submitted with (when the
      // session no longer has this context, its answer is dropped below). The store is phase 3's until
      // phase 3 is done (a store serves one flow at a time, store.ts): session.json is read after that,
      // while the request is in flight.
      const fetching = fetchStatus(env, { clusterId, contextId: active.context_id, commandId });
      await phase3Done;
      if (phase3) throw PHASE3_ANSWERED;
      const [current, fetched] = await Promise.all([env.loadSession(), fetching]);
      if (current.context_id !== active.context_id) {
        // Another dbxr process replaced the context (create --force, or it recovered from an eviction).
        throw replacedError(env, active);
      }
      const s = await judgeStatus(env, active.context_id, fetched, (r) => evicted = r);
      if (!s) return { done: true, value: undefined as unknown as CommandStatusResponse };
      if ("transient" in s) {
        failures++;
        lastFailure = s.transient;
        failingSince ??= ctx.now();
        if (ctx.now() - failingSince >= POLL_FAILURE_BUDGET_MS) {
          gaveUp = true;
          return { done: true, value: undefined as unknown as CommandStatusResponse };
        }
        return { done: false, progress: `status request failed (${s.transient.code}), retrying` };
      }
      failingSince = undefined;
      failures = 0;
      last = s;
      return commands.TERMINAL_COMMAND_STATES.has(s.status)
        ? { done: true, value: s }
        : { done: false, progress: s.status };
    }, {
      timeoutMs: timeoutSeconds * 1000,
      schedule: commandSchedule,
      signal: AbortSignal.any([ctx.signal, stop.signal]),
      startedAt,
      onPoll: (text, ms) => {
        progress.step(text, ms);
        // The process sleeps until the next poll: load what finalize needs now (see afterwards()).
        void afterwards();
      },
    });
    await phase3Done; // a wait that timed out before phase 3 was done
    if (phase3) return phase3Outcome();
    const waited = ctx.now() - startedAt;
    if (evicted) {
      progress.end("ContextEvicted", waited);
      return evicted;
    }
    if (!outcome.done || gaveUp) {
      progress.end(`Running after --timeout ${timeoutSeconds}s: dbxr await`, waited);
      const tip = runningTip(env.projectDirLabel);
      // As the seed: the client-side timeout that was asked for; and why the wait ended early, if it did.
      const failing = failingSince !== undefined && lastFailure
        ? ` The last ${failures} status request(s) failed (${lastFailure.code}: ${lastFailure.message}); ` +
          "the command itself is not known to have failed."
        : "";
      return {
        exitCode: EXIT_FOR.Running,
        response: {
          cmd_id: filesOf(active, active.language).cmd_id,
          status: "Running",
          command_id: commandId,
          elapsed_seconds: elapsedSeconds(startedAt, ctx.now()),
          message: gaveUp
            ? `Stopped waiting: the API kept failing for ${
              Math.round(POLL_FAILURE_BUDGET_MS / 1000)
            }s.${failing}`
            : `Command still running after ${timeoutSeconds}s client-side timeout.${failing}`,
          tip,
        },
      };
    }
    mark("exec:finalize");
    const done = await finalize(env, active, outcome.value, previewChars);
    mark("exec:finalized");
    progress.end(String(done.response.status), waited);
    if (done.response.status === "Cancelled" && !done.response.message) {
      done.response.message = "Command was cancelled (dbxr cancel, or on the cluster).";
    }
    return done;
  } catch (e) {
    // Phase 3's answer (or failure) comes first: it decides whether this command is still ours at all.
    await phase3Done;
    if (phase3) return phase3Outcome();
    if (!(e instanceof DOMException && e.name === "AbortError") && !ctx.signal.aborted) throw e;
    // Ctrl-C / SIGTERM: cancel the remote command, give it a moment to settle, keep what it left.
    return await interrupted(env, active, commandId, last, previewChars);
  }
}

/** How long Ctrl-C and `cancel` wait for a cancelled command to end (docs/contract.md: about 10 s). */
export const SETTLE_MS = 10_000;

async function interrupted(
  env: ReplEnv,
  active: ActiveCommand,
  commandId: string,
  last: CommandStatusResponse | undefined,
  previewChars: number,
): Promise<ExecResult> {
  const settle = await cancelAndSettleOutcome(env, commandId, SETTLE_MS).catch(() => undefined);
  const settled = settle?.value;
  if (settled && (await afterwards()).deriveStatus(settled) !== "Cancelled") {
    // It ended on its own before the cancel reached it: record what really happened.
    return await finalize(env, active, settled, previewChars);
  }
  if (settled) {
    const r = await finalize(env, active, settled, previewChars, "Cancelled");
    return {
      exitCode: 130,
      response: { ...r.response, status: "Cancelled", message: "Command interrupted by user." },
    };
  }
  // Not ended within the bound (code that catches KeyboardInterrupt, or no answer): it stays the
  // active command, so that nothing queues behind it and no output is written before it exists.
  const remoteStatus = settle?.last?.status ?? last?.status;
  await noteRemoteStatus(env, active, remoteStatus);
  const tip = runningTip(env.projectDirLabel);
  return {
    exitCode: 130,
    response: {
      cmd_id: filesOf(active, active.language).cmd_id,
      status: "Running",
      command_id: commandId,
      elapsed_seconds: elapsedSeconds(parseIso(active.started_at) ?? env.ctx.now(), env.ctx.now()),
      settled: false,
      ...(remoteStatus ? { remote_status: remoteStatus } : {}),
      message:
        `Command interrupted by user: cancel was sent but the command has not ended after ${
          SETTLE_MS / 1000
        }s (it may catch KeyboardInterrupt). It stays the active command: \`dbxr await\` records it when it ` +
        "ends, `dbxr cancel` tries again.",
      tip,
    },
  };
}

/** Records the remote state of a command that did not settle in its active_command (if still active). */
async function noteRemoteStatus(env: ReplEnv, active: ActiveCommand, remoteStatus: string | undefined) {
  if (!remoteStatus) return;
  await env.store.withLock(async () => {
    const s = await env.loadSession();
    if (s.active_command?.step !== active.step) return;
    await env.store.write({ ...s, active_command: { ...s.active_command, remote_status: remoteStatus } });
  }).catch(() => {});
}

/** Sends cancel and polls (bounded) until the command has ended; undefined when it did not settle. */
export async function cancelAndSettle(
  env: ReplEnv,
  commandId: string,
  boundMs: number,
): Promise<CommandStatusResponse | undefined> {
  return (await cancelAndSettleOutcome(env, commandId, boundMs)).value;
}

/** cancelAndSettle, with the last status seen when it did not settle. */
export async function cancelAndSettleOutcome(
  env: ReplEnv,
  commandId: string,
  boundMs: number,
): Promise<{ value?: CommandStatusResponse; last?: CommandStatusResponse }> {
  const session = await env.loadSession();
  const ids = { clusterId: session.cluster_id, contextId: session.context_id, commandId };
  // ctx.signal may already be aborted (we are handling Ctrl-C): these requests must not use it.
  await commands.cancel(env.remote.client, ids, { detached: true });
  let last: CommandStatusResponse | undefined;
  const progress = env.ctx.out.wait(`cancel ${commandId}`);
  const outcome = await poll<CommandStatusResponse>(env.ctx, async () => {
    const s = await commands.commandStatus(env.remote.client, ids, { detached: true });
    last = s;
    return commands.TERMINAL_COMMAND_STATES.has(s.status)
      ? { done: true, value: s }
      : { done: false, progress: s.status };
  }, { timeoutMs: boundMs, schedule: commandSchedule, onPoll: progress.step });
  progress.end(outcome.done ? outcome.value.status : "not ended yet", outcome.elapsedMs);
  return outcome.done ? { value: outcome.value, last } : { last };
}

/**
 * The status of the session's active command; undefined after an eviction was detected and handled (the
 * step recorded as ContextEvicted, a fresh context created; onEvicted gets the response); or `transient`
 * when the API failed in a way that says nothing about the command (a 5xx that is not ContextNotFound, a
 * network error, throttling past the client's retries): the wait goes on.
 */
async function statusOrEviction(
  env: ReplEnv,
  session: Session,
  commandId: string,
  onEvicted?: (r: ExecResult) => void,
): Promise<CommandStatusResponse | undefined | { transient: DbxrError }> {
  const fetched = await fetchStatus(env, {
    clusterId: session.cluster_id,
    contextId: session.context_id,
    commandId,
  });
  return await judgeStatus(env, session.context_id, fetched, onEvicted);
}

type Fetched = { ok: true; status: CommandStatusResponse } | { ok: false; error: unknown };

/** One commands/status request, its failure as a value: judged (judgeStatus) once the caller may act on it. */
function fetchStatus(
  env: ReplEnv,
  ids: { clusterId: string; contextId: string; commandId: string },
): Promise<Fetched> {
  return commands.commandStatus(env.remote.client, ids)
    .then((status) => ({ ok: true as const, status }), (error) => ({ ok: false as const, error }));
}

/** statusOrEviction's judgement of a fetched status. */
async function judgeStatus(
  env: ReplEnv,
  contextId: string,
  fetched: Fetched,
  onEvicted?: (r: ExecResult) => void,
): Promise<CommandStatusResponse | undefined | { transient: DbxrError }> {
  if (fetched.ok) return fetched.status;
  try {
    onEvicted?.(await (await afterwards()).evictionOrRethrow(env, contextId, fetched.error));
    return undefined;
  } catch (e2) {
    if (isTransientFailure(e2)) return { transient: e2 };
    throw e2;
  }
}

export function isTransientFailure(e: unknown): e is DbxrError {
  if (!isDbxrError(e)) return false;
  if (e.code === "NetworkError" || e.code === "RateLimited") return true;
  const status = e.details.http_status;
  return e.code === "ApiError" && typeof status === "number" && status >= 500 &&
    !/ContextNotFound/i.test(e.message);
}

/**
 * How long polls may fail in a row before the wait gives up (as `Running`, the command left to `await`):
 * long enough for a restart of the control plane, short enough that a script learns of an outage.
 */
export const POLL_FAILURE_BUDGET_MS = 120_000;

async function submitFailed(
  env: ReplEnv,
  session: Session,
  active: ActiveCommand,
  e: unknown,
): Promise<ExecResult> {
  if (!isDbxrError(e)) throw e;
  if (e.code === "NetworkError" && e.details.may_have_reached_server) {
    // In doubt: it may be running. Keep active_command (state submitting) so nothing else queues behind.
    throw new DbxrError(
      "NetworkError",
      `${e.message} The command may or may not have started; cancel it to clear it.`,
      { hint: runningTip(env.projectDirLabel).cancel, details: e.details },
    );
  }
  const { isContextGone, handleEviction } = await afterwards();
  if (await isContextGone(env.remote, session.context_id).catch(() => false)) {
    return await handleEviction(env, session.context_id);
  }
  // A definite refusal: nothing runs. Record the step as an Error with the reason, clear the command.
  const now = env.ctx.now();
  const started = parseIso(active.started_at) ?? now;
  const files = filesOf(active, active.language);
  await writeStepOutputs(env.store.projectDir, files, { stderr: `${e.code}: ${e.message}\n` });
  await env.store.write(
    finishStep(session, {
      status: "Error",
      finished_at: isoUtc(now),
      elapsed_seconds: elapsedSeconds(started, now),
    })
      .session,
  );
  throw e;
}

/**
 * Writes the step's outputs and records it, once. When another process (an `await` in another
 * terminal) finalised the same command first, its record is returned instead.
 */
export async function finalize(
  env: ReplEnv,
  active: ActiveCommand,
  status: CommandStatusResponse,
  previewChars: number,
  forceStatus?: "Cancelled",
): Promise<ExecResult> {
  if (!commands.TERMINAL_COMMAND_STATES.has(status.status)) {
    // Recording it now would lose what it prints later, and the recovery helper would queue behind it.
    throw new DbxrError("Error", `internal error: ${status.status} is not an ended command`, {
      details: { command_id: status.id, status: status.status },
    });
  }
  const files = filesOf(active, active.language);
  const { mapResult, recoverOutput } = await afterwards();
  const mapped = mapResult(status);
  if (forceStatus) mapped.status = forceStatus;
  if (mapped.status !== "Finished" && active.language === "python") {
    // Only before a recovery (a helper command on the context) is the session looked at outside the lock:
    // when another process (exec and cancel both finalise) recorded the step already, no second recovery.
    // A Finished command goes straight to the decision under the lock, which reads the session anyway.
    const before = await env.loadSession();
    if (before.active_command?.step !== active.step) {
      const record = before.steps.find((s) => s.step === active.step);
      if (record) return await responseFromRecord(env, record, files, previewChars);
    }
    // Databricks drops what a failed (or cancelled) command printed; the bootstrap kept a copy.
    const kept = await recoverOutput(env.remote, before.context_id).catch(() => undefined);
    if (kept) {
      // As Databricks returns text: without the final newline.
      mapped.stdout = kept.text.replace(/\n$/, "");
      if (kept.truncated) mapped.truncated = true;
    }
  }
  return await env.store.withLock(async () => {
    const session = await env.loadSession();
    const now = env.ctx.now();
    if (session.active_command?.step !== active.step) {
      const record = session.steps.find((s) => s.step === active.step);
      if (record) return responseFromRecord(env, record, files, previewChars);
    }
    const written = await writeStepOutputs(env.store.projectDir, files, {
      stdout: mapped.stdout,
      stderr: mapped.stderr,
      result: mapped.table,
      images: mapped.images,
    });
    const started = parseIso(active.started_at) ?? now;
    const elapsed = elapsedSeconds(started, now);
    const { session: next } = finishStep(session, {
      status: mapped.status,
      finished_at: isoUtc(now),
      elapsed_seconds: elapsed,
      step: active.step,
      result_type: mapped.result_type,
      truncated: mapped.truncated,
      stdout_bytes: written.stdout_bytes,
      stderr_bytes: written.stderr_bytes,
      ...(written.result_file ? { result_file: written.result_file } : {}),
    });
    await env.store.write(next);
    const shown = (rel: string) => shownPath(env.projectDirLabel, rel);
    const response: ExecResponse = {
      cmd_id: files.cmd_id,
      status: mapped.status,
      stdout_file: shown(written.stdout_file),
      stderr_file: shown(written.stderr_file),
      stdout_bytes: written.stdout_bytes,
      stderr_bytes: written.stderr_bytes,
      ...previews(mapped, previewChars),
      elapsed_seconds: elapsed,
      result_type: mapped.result_type,
      truncated: mapped.truncated,
      ...(written.result_file ? { result_file: shown(written.result_file) } : {}),
    };
    return { exitCode: EXIT_FOR[mapped.status] ?? 1, response };
  });
}

function previews(m: Pick<MappedResult, "status" | "stdout" | "stderr">, n: number) {
  const p: { stdout_preview?: string; stderr_preview?: string } = {};
  if (m.stdout) p.stdout_preview = preview(m.stdout, n);
  if (m.status !== "Finished" && m.stderr) p.stderr_preview = stderrPreview(m.stderr, n);
  return p;
}

async function responseFromRecord(
  env: ReplEnv,
  record: StepRecord,
  files: StepFiles,
  previewChars: number,
): Promise<ExecResult> {
  const read = async (rel: string) => {
    try {
      return await Deno.readTextFile(`${env.store.projectDir}/${rel}`);
    } catch {
      return "";
    }
  };
  const stdout = await read(files.stdout);
  const stderr = await read(files.stderr);
  const status = record.status;
  return {
    exitCode: EXIT_FOR[status] ?? (status === "ContextEvicted" ? 9 : 1),
    response: {
      cmd_id: files.cmd_id,
      status,
      stdout_file: shownPath(env.projectDirLabel, files.stdout),
      stderr_file: shownPath(env.projectDirLabel, files.stderr),
      stdout_bytes: record.stdout_bytes ?? new TextEncoder().encode(stdout).length,
      stderr_bytes: record.stderr_bytes ?? new TextEncoder().encode(stderr).length,
      ...previews({ status: status as MappedResult["status"], stdout, stderr }, previewChars),
      elapsed_seconds: record.elapsed_seconds,
      ...(record.result_type ? { result_type: record.result_type } : {}),
      ...(record.truncated !== undefined ? { truncated: record.truncated } : {}),
      ...(record.result_file ? { result_file: shownPath(env.projectDirLabel, record.result_file) } : {}),
    },
  };
}
