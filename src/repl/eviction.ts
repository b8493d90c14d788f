// A context that is gone (evicted, destroyed, lost in a restart): create a fresh one, re-inject the
// bootstrap, record it, and tell the caller that a replay is needed (docs/contract.md §4, ContextEvicted).

import * as commands from "../api/commands.ts";
import { DbxrError, isDbxrError } from "../errors.ts";
import { writeStepOutputs } from "../session/outputs.ts";
import { elapsedSeconds, isoUtc, parseIso } from "../session/time.ts";
import { finishStep, previousSteps, recordEviction } from "../session/transitions.ts";
import { contextLanguage, type ReplEnv, shownPath } from "./env.ts";
import type { ExecResult } from "./exec.ts";
import { recordContext } from "./registry.ts";
import { isContextGone, openContext, requireRunningCluster } from "./remote.ts";

export const EVICTION_MESSAGE = "Execution context was evicted. Fresh context created. Replay needed.";

/**
 * After an API 1.2 error: when contexts/status says the context is gone, recover (handleEviction);
 * otherwise the error stands and is rethrown. Eviction is never decided from the error's text.
 */
export async function evictionOrRethrow(env: ReplEnv, contextId: string, e: unknown): Promise<ExecResult> {
  if (!isDbxrError(e) || !(await isContextGone(env.remote, contextId))) throw e;
  return await handleEviction(env, contextId);
}

/** What to run after an eviction: the replay plan first, then the replay. */
export function replayTip(projectDirQuoted: string) {
  const dir = ` --project-dir ${projectDirQuoted}`;
  return {
    hint: `dbxr repl replay --dry-run${dir}`,
    tip: { plan: `dbxr repl replay --dry-run${dir}`, replay: `dbxr repl replay${dir}` },
  };
}

export async function handleEviction(env: ReplEnv, goneContextId: string): Promise<ExecResult> {
  const { store, ctx, remote } = env;
  // Another process may have replaced the session meanwhile (create --force): its fresh context is not
  // the one that is gone, and must not be rebound or charged with our step.
  const replaced = () =>
    new DbxrError(
      "ContextEvicted",
      `The session in ${env.projectDirLabel} was replaced (create --force) while this command waited; ` +
        "nothing was recorded in the new session.",
      {
        hint: `dbxr status --project-dir ${env.projectDirQuoted}`,
        details: { gone_context_id: goneContextId },
      },
    );
  // Or destroyed it (`dbxr destroy` took the context away): then no fresh context is made for it.
  const destroyed = () =>
    new DbxrError(
      "NoSession",
      `The session in ${env.projectDirLabel} was destroyed while this command waited; no fresh context was made.`,
      {
        hint: `dbxr status --project-dir ${env.projectDirQuoted}`,
        details: { gone_context_id: goneContextId },
      },
    );
  // The triggering command did not run (or its context died under it): record it first, so that it is
  // not lost whatever happens next.
  await store.update(async (s) => {
    if (s.status !== "active") throw destroyed();
    if (s.context_id !== goneContextId) throw replaced();
    if (!s.active_command) return s;
    const now = ctx.now();
    const started = parseIso(s.active_command.started_at) ?? now;
    const done = finishStep(s, {
      status: "ContextEvicted",
      finished_at: isoUtc(now),
      elapsed_seconds: elapsedSeconds(started, now),
    });
    // Every step has its output files, even one whose context vanished under it.
    await writeStepOutputs(store.projectDir, done.files, {
      stderr:
        "ContextEvicted: the execution context was lost (evicted, destroyed or the cluster restarted) " +
        "before this command finished; anything it printed is gone with it. Replay the steps.\n",
    });
    return done.session;
  });
  const session = await env.loadSession();
  try {
    await requireRunningCluster(remote);
  } catch (e) {
    if (isDbxrError(e, "ClusterNotRunning")) {
      throw new DbxrError(
        "ClusterNotRunning",
        `${e.message} Its execution contexts were lost; once it runs again, the next command creates a fresh context.`,
        { hint: e.hint, details: { ...e.details, context_id: session.context_id } },
      );
    }
    throw e;
  }
  // Recorded before its bootstrap, so that a process killed meanwhile leaves no context nothing tracks.
  const newId = await openContext(remote, contextLanguage(session), (id) =>
    recordContext(ctx, {
      host: env.host,
      cluster_id: session.cluster_id,
      context_id: id,
      project_dir: store.projectDir,
      session_name: session.session_name,
      reason: "eviction",
    }));
  const updated = await store.update(async (s) => {
    if (s.status !== "active" || s.context_id !== goneContextId) {
      await commands.destroyContext(remote.client, remote.clusterId, newId, { detached: true }).catch(
        () => {},
      );
      throw s.status !== "active" ? destroyed() : replaced();
    }
    return recordEviction(s, newId, ctx.now());
  });
  return {
    exitCode: 9,
    response: {
      status: "ContextEvicted",
      message: EVICTION_MESSAGE,
      new_context_id: newId,
      project_dir: env.projectDirLabel,
      previous_steps: previousSteps(updated).map((p) => ({
        ...p,
        command_file: shownPath(env.projectDirLabel, p.command_file),
      })),
      ...replayTip(env.projectDirQuoted),
    },
  };
}
