// create, cancel, destroy, status: the session's life around exec.

import * as commands from "../api/commands.ts";
import { connect } from "../api/connect.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError, isDbxrError } from "../errors.ts";
import { basename } from "../paths.ts";
import { filesOf, highestStepOnDisk } from "../session/files.ts";
import { writeStepOutputs } from "../session/outputs.ts";
import type { Language, Session } from "../session/schema.ts";
import { elapsedSeconds, isoUtc, parseIso } from "../session/time.ts";
import { classifyActive, destroy, finishStep, newSession } from "../session/transitions.ts";
import { contextLanguage, openRepl, type ReplEnv, type ReplFlags, shownPath, storeFor } from "./env.ts";
// remote.ts and eviction.ts (with the bootstrap asset and the cluster modules) come through afterwards():
// exec, which is loaded with this module, must not load them before its submit.
import { afterwards, cancelAndSettleOutcome, type ExecResult, finalize, SETTLE_MS } from "./exec.ts";
import { recordContext } from "./registry.ts";

export interface CreateOptions {
  clusterId?: string;
  sessionName: string;
  language: Language;
  force: boolean;
}

export async function createSession(ctx: Ctx, flags: ReplFlags, o: CreateOptions) {
  const { store, label } = storeFor(ctx, flags);
  const existing = await store.readIfExists().catch((e) => {
    if (isDbxrError(e, "SessionCorrupt")) return undefined; // moved aside and reported on stderr below
    throw e;
  });
  if (existing && existing.status !== "destroyed" && !o.force) throw sessionExists(existing, label);
  const conn = await connect(ctx, flags, "create");
  const clusterId = o.clusterId ?? conn.config.cluster_id;
  if (!clusterId) {
    throw new DbxrError(
      "InvalidArgument",
      "No cluster: pass --cluster-id, or set DATABRICKS_CLUSTER_ID or the profile's cluster_id.",
      { hint: "dbxr find-cluster --name <part of its name>" },
    );
  }
  const remote = { ctx, client: conn.client, clusterId };
  const { openContext, requireRunningCluster } = await afterwards();
  await requireRunningCluster(remote);

  // Recorded in the per-user registry as soon as it exists, before its bootstrap: a create killed
  // mid-bootstrap still leaves a context that `dbxr repl gc` can find.
  const contextId = await openContext(remote, o.language, (id) =>
    recordContext(ctx, {
      host: conn.config.host!,
      cluster_id: clusterId,
      context_id: id,
      project_dir: store.projectDir,
      session_name: o.sessionName,
      reason: "create",
    }));
  let archived: string | undefined;
  // --force: the replaced session's context goes only once the new one is recorded in its place, so that
  // a create that fails (a 500, a dropped connection) leaves the old session as it was, and true.
  let replaced: Session | undefined;
  // Decided under the lock on what is there now: another create may have won while our context started.
  try {
    await store.withLock(async () => {
      const current = await store.readIfExists().catch((e) => {
        if (isDbxrError(e, "SessionCorrupt")) return undefined;
        throw e;
      });
      if (current && current.status !== "destroyed") {
        const sameAsForced = o.force && existing !== undefined && existing.status !== "destroyed" &&
          current.context_id === existing.context_id;
        if (!o.force || !sameAsForced) {
          // A live session that this call did not decide to replace (another create won the race, or
          // one was made after --force looked): it stays; this call's context goes.
          throw sessionExists(current, label);
        }
      }
      // As the seed's tool: the earlier session's steps carry over (a live one replaced by --force ends
      // its active command as Cancelled first, as destroy does).
      let carried = current?.steps ?? [];
      if (current && current.status !== "destroyed") {
        replaced = current;
        const active = current.active_command;
        const ended = destroy(current, ctx.now());
        if (active) {
          await writeStepOutputs(store.projectDir, filesOf(active, active.language), {
            stdout: "",
            stderr: "Cancelled: the session was replaced (create --force) while this command ran.\n",
          });
        }
        carried = ended.steps;
      }
      // Never overwrite a session file: an earlier (destroyed or replaced) session is kept aside.
      archived = await store.archive();
      await store.ensureDirs();
      const session = newSession({
        cluster_id: clusterId,
        context_id: contextId,
        session_name: o.sessionName,
        profile: conn.profile ?? null,
        host: conn.config.host,
        auth_type: conn.authType,
        language: o.language,
        now: ctx.now(),
        highestOnDisk: await highestStepOnDisk(store.projectDir),
        steps: carried,
      });
      await store.write(session);
    });
  } catch (e) {
    // Lost the race (or could not write): the context this call made is not left running.
    await commands.destroyContext(conn.client, clusterId, contextId, { detached: true }).catch(() => {});
    throw e;
  }
  if (replaced) {
    // Ignoring a context already gone.
    await commands.destroyContext(conn.client, replaced.cluster_id, replaced.context_id).catch(() => {});
  }
  return {
    status: "created",
    project_dir: label,
    session_file: shownPath(label, "session.json"),
    cluster_id: clusterId,
    context_id: contextId,
    output_dir: shownPath(label, "repl_outputs"),
    ...(archived
      ? { previous_session_file: shownPath(label, basename(archived)) } // the name, whichever separator the OS uses
      : {}),
  };
}

function sessionExists(existing: Session, label: string): DbxrError {
  return new DbxrError(
    "SessionExists",
    `Active session already exists in ${label}. Destroy it first or use a different --project-dir.`,
    {
      hint: `dbxr destroy --project-dir ${label}`,
      details: { session_name: existing.session_name, context_id: existing.context_id },
    },
  );
}

export async function cancelCommand(ctx: Ctx, flags: ReplFlags, runId?: string): Promise<ExecResult> {
  const env = await openRepl(ctx, flags, "cancel");
  const { store } = env;
  const deadline = performance.now() + SETTLE_MS;
  // The step whose cancel was requested while it was being submitted: followed until it has an id.
  let requested: number | undefined;
  for (;;) {
    // Decided under the lock, on what is read there: the command's state cannot change in between.
    const d = await store.withLock(async () => {
      const session = await env.loadSession();
      const c = classifyActive(session);
      if (requested !== undefined && session.active_command?.step !== requested) {
        // Its exec ended it meanwhile (a definite refusal, or it ended before the id came back).
        return { kind: "ended" as const, record: session.steps.find((st) => st.step === requested) };
      }
      if (runId && (c.kind !== "pending" || c.command_id !== runId)) return { kind: "other" as const };
      if (c.kind === "none") {
        throw new DbxrError("NothingToCancel", "No active command to cancel.", {
          hint: `dbxr status --project-dir ${env.projectDirQuoted}`,
        });
      }
      if (c.kind === "in-doubt") {
        if (await store.submitterAlive(c.active.submit_lock)) {
          // Its exec is submitting it right now: that process cancels it as soon as it has an id.
          if (!c.active.cancel_requested) {
            await store.write({ ...session, active_command: { ...c.active, cancel_requested: true } });
          }
          return { kind: "submitting" as const, c };
        }
        // Nobody holds its submit lock: the process that submitted it is really gone, and it never
        // recorded an id; nothing can be cancelled remotely. Clear the record, with its files.
        const now = ctx.now();
        const done = finishStep(session, {
          status: "Cancelled",
          finished_at: isoUtc(now),
          elapsed_seconds: elapsedSeconds(parseIso(c.active.started_at) ?? now, now),
          step: c.active.step,
        });
        await writeStepOutputs(store.projectDir, done.files, {
          stdout: "",
          stderr: "Cancelled: the dbxr process that submitted this command stopped before the API gave it " +
            "a command id; it may or may not have run.\n",
        });
        await store.write(done.session);
        await store.removeSubmitLock(c.active.submit_lock);
        return { kind: "cleared" as const, c };
      }
      return { kind: "pending" as const, c };
    });
    if (d.kind === "ended") {
      const r = d.record;
      return {
        exitCode: 0,
        response: {
          status: "cancelled",
          command_id: r?.command_id ?? null,
          settled: true,
          ...(r ? { cmd_id: filesOf(r).cmd_id } : {}),
          ...(r ? { step_status: r.status } : {}),
        },
      };
    }
    if (d.kind === "other") {
      // A command id that is not the session's active command: cancel it remotely, nothing to record.
      const s = await settleOrEvict(env, runId!);
      if (!s.ok) return s.evicted;
      return { exitCode: 0, response: { status: "cancelled", command_id: runId, settled: s.settled } };
    }
    if (d.kind === "cleared") {
      return {
        exitCode: 0,
        response: {
          status: "cancelled",
          command_id: null,
          settled: true,
          cmd_id: d.c.files.cmd_id,
          message: `Cleared ${d.c.files.cmd_id}, which was being submitted when its dbxr process stopped; ` +
            "it may or may not have run.",
        },
      };
    }
    if (d.kind === "submitting") {
      requested = d.c.active.step;
      if (performance.now() >= deadline) {
        return {
          exitCode: 0,
          response: {
            status: "cancelled",
            command_id: null,
            settled: false,
            cmd_id: d.c.files.cmd_id,
            message:
              `${d.c.files.cmd_id} is still being submitted by its dbxr exec; the cancel is recorded and ` +
              "that exec cancels it as soon as the API gives it a command id.",
          },
        };
      }
      await ctx.sleep(100);
      continue;
    }
    const c = d.c;
    const s = await settleOrEvict(env, c.command_id);
    if (!s.ok) return s.evicted;
    if (s.status) {
      // Not forced to Cancelled: a command that ended before the cancel reached it keeps its real status.
      const r = await finalize(env, c.active, s.status, 200);
      return {
        exitCode: 0,
        response: {
          status: "cancelled",
          command_id: c.command_id,
          settled: true,
          cmd_id: r.response.cmd_id,
          step_status: r.response.status,
        },
      };
    }
    await noteRemote(env, c.active.step, s.last);
    return {
      exitCode: 0,
      response: {
        status: "cancelled",
        command_id: c.command_id,
        settled: false,
        cmd_id: c.files.cmd_id,
        ...(s.last ? { remote_status: s.last } : {}),
        message: `Cancel was sent but the command has not ended after ${SETTLE_MS / 1000}s (it may catch ` +
          "KeyboardInterrupt); it stays the active command. `dbxr await` records it when it ends.",
      },
    };
  }
}

/** Records the remote state of an unsettled command in its active_command, if it is still active. */
async function noteRemote(env: ReplEnv, step: number, remoteStatus: string | undefined): Promise<void> {
  if (!remoteStatus) return;
  await env.store.withLock(async () => {
    const s = await env.loadSession();
    if (s.active_command?.step !== step) return;
    await env.store.write({ ...s, active_command: { ...s.active_command, remote_status: remoteStatus } });
  }).catch(() => {});
}

type Settled =
  | { ok: true; settled: boolean; status?: commands.CommandStatusResponse; last?: string }
  | { ok: false; evicted: ExecResult };

async function settleOrEvict(env: ReplEnv, commandId: string): Promise<Settled> {
  try {
    const o = await cancelAndSettleOutcome(env, commandId, SETTLE_MS);
    return { ok: true, settled: o.value !== undefined, status: o.value, last: o.last?.status };
  } catch (e) {
    const session = await env.loadSession();
    return { ok: false, evicted: await (await afterwards()).evictionOrRethrow(env, session.context_id, e) };
  }
}

export async function destroySession(ctx: Ctx, flags: ReplFlags) {
  const { store, label } = storeFor(ctx, flags);
  const s = await store.read();
  if (s.status === "destroyed") {
    throw new DbxrError("NoSession", "Session is already destroyed.", {
      hint:
        `dbxr create --cluster-id ${s.cluster_id} --session-name ${s.session_name} --project-dir ${label}`,
    });
  }
  const env = await openRepl(ctx, flags, "destroy");
  try {
    await commands.destroyContext(env.remote.client, s.cluster_id, s.context_id);
  } catch (e) {
    // A context that is already gone (evicted, cluster restarted) is what destroy wants anyway.
    const { isContextGone } = await afterwards();
    if (!isDbxrError(e) || !(await isContextGone(env.remote, s.context_id).catch(() => true))) throw e;
  }
  // Decided on what session.json holds under the lock: an exec that found the context gone meanwhile may
  // have bound a fresh one (an eviction, as it saw it); that one goes too, or it would run on unseen.
  let boundMeanwhile: string | undefined;
  const next = await store.update(async (cur) => {
    if (cur.status === "destroyed") return cur;
    if (cur.context_id !== s.context_id) boundMeanwhile = cur.context_id;
    const active = cur.active_command;
    const after = destroy(cur, ctx.now());
    if (active) {
      // The command dies with its context: it is recorded as Cancelled, with its output files.
      // (Its output cannot be fetched: a follow-up command would queue behind it until it ended.)
      await writeStepOutputs(store.projectDir, filesOf(active, active.language), {
        stdout: "",
        stderr: "Cancelled: the session was destroyed while this command ran.\n",
      });
    }
    return after;
  });
  if (boundMeanwhile) {
    await commands.destroyContext(env.remote.client, next.cluster_id, boundMeanwhile).catch(() => {});
  }
  return {
    status: "destroyed",
    // As the seed: every recorded step.
    steps_completed: next.steps.length,
    session_file: shownPath(label, "session.json"),
    project_dir: label,
  };
}

export async function sessionStatus(ctx: Ctx, flags: ReplFlags) {
  const { store, label } = storeFor(ctx, flags);
  const s: Session = await store.read();
  const base = {
    status: s.status,
    session_name: s.session_name,
    project_dir: label,
    session_file: shownPath(label, "session.json"),
    cluster_id: s.cluster_id,
    context_id: s.context_id,
    language: contextLanguage(s),
    steps: s.steps.length,
    last_step: s.steps.at(-1) ?? null,
    eviction_count: s.eviction_count ?? 0,
    created_at: s.created_at,
  };
  if (s.status === "destroyed") {
    return { ...base, destroyed_at: s.destroyed_at ?? null, active_command: null };
  }
  const env = await openRepl(ctx, flags, "status");
  const { clusterState, isContextGone } = await afterwards();
  const [cluster, contextGone] = await Promise.all([
    clusterState(env.remote),
    isContextGone(env.remote, s.context_id).catch(() => undefined),
  ]);
  let active: Record<string, unknown> | null = null;
  const c = classifyActive(s);
  if (c.kind === "pending") {
    let remoteStatus: string;
    try {
      const st = await commands.commandStatus(env.remote.client, {
        clusterId: s.cluster_id,
        contextId: s.context_id,
        commandId: c.command_id,
      });
      remoteStatus = st.status;
      if (commands.TERMINAL_COMMAND_STATES.has(st.status)) {
        // A stale command that ended while nobody waited: record it now, as exec would.
        await finalize(env, c.active, st, 200);
        remoteStatus = `${st.status} (recorded now)`;
      }
    } catch {
      remoteStatus = "unknown";
    }
    active = {
      cmd_id: c.files.cmd_id,
      command_id: c.command_id,
      started_at: c.active.started_at,
      remote_status: remoteStatus,
    };
  } else if (c.kind === "in-doubt") {
    // "submitting" while its exec process holds the submit lock; "in-doubt" only once it is gone.
    const alive = await store.withLock(() => store.submitterAlive(c.active.submit_lock));
    active = {
      cmd_id: c.files.cmd_id,
      command_id: null,
      started_at: c.active.started_at,
      remote_status: alive ? "submitting" : "in-doubt",
      ...(alive ? {} : { hint: `dbxr cancel --project-dir ${env.projectDirQuoted}` }),
    };
  }
  const now = await store.read();
  return {
    ...base,
    steps: now.steps.length,
    last_step: now.steps.at(-1) ?? null,
    cluster_state: cluster,
    context_alive: contextGone === undefined ? null : !contextGone,
    active_command: active,
    ...(cluster !== "RUNNING" && cluster !== "RESIZING"
      ? { hint: `dbxr cluster start ${s.cluster_id} --wait` }
      : {}),
  };
}
