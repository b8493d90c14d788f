// create, cancel, destroy, status: the session's life around exec.

import * as commands from "../api/commands.ts";
import { connect } from "../api/connect.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError, isDbxrError } from "../errors.ts";
import { filesOf, highestStepOnDisk } from "../session/files.ts";
import { writeStepOutputs } from "../session/outputs.ts";
import type { Language, Session } from "../session/schema.ts";
import { elapsedSeconds, isoUtc, parseIso } from "../session/time.ts";
import { classifyActive, destroy, finishStep, newSession } from "../session/transitions.ts";
import { contextLanguage, openRepl, type ReplEnv, type ReplFlags, shownPath, storeFor } from "./env.ts";
import { cancelAndSettle, type ExecResult, finalize } from "./exec.ts";
import { recordContext } from "./registry.ts";
import { clusterState, isContextGone, openContext, requireRunningCluster } from "./remote.ts";
import { evictionOrRethrow } from "./eviction.ts";

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
  if (existing && existing.status !== "destroyed" && !o.force) {
    throw new DbxrError(
      "SessionExists",
      `Active session already exists in ${label}. Destroy it first or use a different --project-dir.`,
      {
        hint: `dbxr destroy --project-dir ${label}`,
        details: { session_name: existing.session_name, context_id: existing.context_id },
      },
    );
  }
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
  await requireRunningCluster(remote);

  if (existing && existing.status !== "destroyed" && o.force) {
    // --force: the old context goes first (ignoring a context already gone), its file is kept aside.
    await commands.destroyContext(conn.client, existing.cluster_id, existing.context_id).catch(() => {});
  }
  const contextId = await openContext(remote, o.language);
  let archived: string | undefined;
  await store.withLock(async () => {
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
    });
    await store.write(session);
  });
  await recordContext(ctx, {
    host: conn.config.host!,
    cluster_id: clusterId,
    context_id: contextId,
    project_dir: store.projectDir,
    session_name: o.sessionName,
    reason: "create",
  });
  return {
    status: "created",
    project_dir: label,
    session_file: shownPath(label, "session.json"),
    cluster_id: clusterId,
    context_id: contextId,
    output_dir: shownPath(label, "repl_outputs"),
    ...(archived
      ? { previous_session_file: shownPath(label, archived.slice(archived.lastIndexOf("/") + 1)) }
      : {}),
  };
}

export async function cancelCommand(ctx: Ctx, flags: ReplFlags, runId?: string): Promise<ExecResult> {
  const env = await openRepl(ctx, flags, "cancel");
  const session = await env.loadSession();
  const c = classifyActive(session);
  if (runId && (c.kind !== "pending" || c.command_id !== runId)) {
    // A command id that is not the session's active command: cancel it remotely, nothing to record.
    const s = await settleOrEvict(env, runId);
    if (!s.ok) return s.evicted;
    return { exitCode: 0, response: { status: "cancelled", command_id: runId, settled: s.settled } };
  }
  if (c.kind === "none") {
    throw new DbxrError("NothingToCancel", "No active command to cancel.", {
      hint: `dbxr status --project-dir ${env.projectDirQuoted}`,
    });
  }
  if (c.kind === "in-doubt") {
    // No command id was ever recorded: nothing can be cancelled remotely; clear the record.
    await env.store.update((s) => {
      const now = ctx.now();
      return finishStep(s, {
        status: "Cancelled",
        finished_at: isoUtc(now),
        elapsed_seconds: elapsedSeconds(parseIso(c.active.started_at) ?? now, now),
        step: c.active.step,
      }).session;
    });
    return {
      exitCode: 0,
      response: {
        status: "cancelled",
        command_id: null,
        settled: true,
        message: `Cleared ${c.files.cmd_id}, which was being submitted when its dbxr process stopped.`,
      },
    };
  }
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
  return {
    exitCode: 0,
    response: {
      status: "cancelled",
      command_id: c.command_id,
      settled: false,
      message: "Cancel was sent but the command has not ended yet; `dbxr await` records it when it does.",
    },
  };
}

type Settled =
  | { ok: true; settled: boolean; status?: commands.CommandStatusResponse }
  | { ok: false; evicted: ExecResult };

async function settleOrEvict(env: ReplEnv, commandId: string): Promise<Settled> {
  try {
    const status = await cancelAndSettle(env, commandId, 10_000);
    return { ok: true, settled: status !== undefined, status };
  } catch (e) {
    const session = await env.loadSession();
    return { ok: false, evicted: await evictionOrRethrow(env, session.context_id, e) };
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
    if (!isDbxrError(e) || !(await isContextGone(env.remote, s.context_id).catch(() => true))) throw e;
  }
  const next = await store.update(async (cur) => {
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
    active = {
      cmd_id: c.files.cmd_id,
      command_id: null,
      started_at: c.active.started_at,
      remote_status: "in-doubt",
      hint: `dbxr cancel --project-dir ${env.projectDirQuoted}`,
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
