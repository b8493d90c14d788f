// `dbxr repl gc`: destroys the execution contexts that dbxr created and no session uses any more. API
// 1.2 cannot list contexts, so the candidates come from the per-user registry (registry.ts); each one
// is judged against the session.json of its project folder (judgeContext, pure), never by guessing.

import * as commands from "../api/commands.ts";
import { connect } from "../api/connect.ts";
import { table } from "../table.ts";
import type { Ctx } from "../ctx.ts";
import { isDbxrError } from "../errors.ts";
import { migrate } from "../session/migrate.ts";
import type { Session } from "../session/schema.ts";
import { SESSION_FILE } from "../session/store.ts";
import { isoUtc, parseIso } from "../session/time.ts";
import { normalizeHost } from "../session/transitions.ts";
import type { ReplFlags } from "./env.ts";
import { readRegistry, type RegistryEntry, removeFromRegistry } from "./registry.ts";
import { isContextGone, type Remote } from "./remote.ts";

export type CollectReason = "session_destroyed" | "session_missing" | "moved" | "idle";
export type KeepReason = "live" | "other_workspace" | "other_cluster" | "unreadable" | "recent";

export type Verdict =
  | { action: "destroy"; reason: CollectReason; why: string }
  | { action: "keep"; reason: KeepReason; why: string };

/** What the context's project folder holds now. */
export type SessionView =
  | { kind: "missing" }
  | { kind: "unreadable"; problem: string }
  | { kind: "ok"; session: Session; /** session.json's mtime, epoch ms */ mtimeMs?: number };

export interface JudgeOptions {
  /** The workspace this call is connected to. */
  host: string;
  clusterId?: string;
  idleHours?: number;
  now: number;
}

/**
 * Whether a registered context is abandoned. Kept whenever in doubt: another workspace (this call
 * cannot reach it), an unreadable session file, or a context recorded after its session file was last
 * written (a create or an eviction in another process may be about to adopt it).
 */
export function judgeContext(e: RegistryEntry, view: SessionView, o: JudgeOptions): Verdict {
  if (normalizeHost(e.host) !== normalizeHost(o.host)) {
    return { action: "keep", reason: "other_workspace", why: `created on ${e.host}, not this workspace` };
  }
  if (o.clusterId !== undefined && e.cluster_id !== o.clusterId) {
    return { action: "keep", reason: "other_cluster", why: `on cluster ${e.cluster_id}, not --cluster-id` };
  }
  if (view.kind === "missing") {
    return { action: "destroy", reason: "session_missing", why: `no ${SESSION_FILE} in ${e.project_dir}` };
  }
  if (view.kind === "unreadable") {
    return { action: "keep", reason: "unreadable", why: `${SESSION_FILE} cannot be read: ${view.problem}` };
  }
  const s = view.session;
  const sameWorkspace = s.host === undefined || normalizeHost(s.host) === normalizeHost(e.host);
  if (!sameWorkspace || s.cluster_id !== e.cluster_id || s.context_id !== e.context_id) {
    const recordedAt = parseIso(e.created_at);
    if (view.mtimeMs !== undefined && recordedAt !== undefined && recordedAt > view.mtimeMs) {
      return {
        action: "keep",
        reason: "recent",
        why: `recorded after ${SESSION_FILE} was last written; a create or an eviction may be adopting it`,
      };
    }
    return {
      action: "destroy",
      reason: "moved",
      why: `the session in ${e.project_dir} now uses context ${s.context_id}` +
        (s.cluster_id !== e.cluster_id ? ` on cluster ${s.cluster_id}` : ""),
    };
  }
  if (s.status === "destroyed") {
    return {
      action: "destroy",
      reason: "session_destroyed",
      why: `the session ${s.session_name} was destroyed`,
    };
  }
  if (o.idleHours !== undefined && !s.active_command) {
    const last = lastActivity(s);
    if (last !== undefined && o.now - last > o.idleHours * 3_600_000) {
      const hours = Math.floor((o.now - last) / 360_000) / 10;
      return {
        action: "destroy",
        reason: "idle",
        why: `idle for ${hours} h (last activity ${isoUtc(last)}), more than --idle ${o.idleHours}`,
      };
    }
  }
  return {
    action: "keep",
    reason: "live",
    why: s.active_command ? "its session is running a command" : "its session uses it",
  };
}

/** The latest instant the session did something: created, a step started or ended, an eviction. */
export function lastActivity(s: Session): number | undefined {
  const times = [
    s.created_at,
    s.last_eviction_at,
    s.active_command?.started_at,
    ...s.steps.flatMap((st) => [st.started_at, st.finished_at]),
  ].map(parseIso).filter((t): t is number => t !== undefined);
  return times.length ? Math.max(...times) : undefined;
}

async function viewOf(projectDir: string): Promise<SessionView> {
  const path = `${projectDir}/${SESSION_FILE}`;
  let text: string;
  let mtimeMs: number | undefined;
  try {
    // Read only: another project's file is never migrated, locked or moved aside from here.
    text = await Deno.readTextFile(path);
    mtimeMs = (await Deno.stat(path)).mtime?.getTime();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return { kind: "missing" };
    }
    return { kind: "unreadable", problem: (e as Error).message };
  }
  try {
    const r = migrate(JSON.parse(text));
    if (!r.ok) return { kind: "unreadable", problem: r.problems[0] ?? "invalid" };
    return { kind: "ok", session: r.session, mtimeMs };
  } catch (e) {
    return { kind: "unreadable", problem: `not valid JSON: ${(e as Error).message}` };
  }
}

export interface GcOptions {
  dryRun: boolean;
  clusterId?: string;
  idleHours?: number;
}

interface Row {
  context_id: string;
  cluster_id: string;
  project_dir: string;
  session_name: string;
  recorded_at: string;
  reason: string;
  why: string;
}

export interface GcResult {
  response: Record<string, unknown>;
  exitCode: number;
}

export async function collectContexts(ctx: Ctx, flags: ReplFlags, o: GcOptions): Promise<GcResult> {
  const conn = await connect(ctx, flags, "gc");
  const host = conn.config.host!;
  const registry = await readRegistry(ctx);
  const now = ctx.now();
  const seen = new Set<string>();
  const collect: Array<Row & { entry: RegistryEntry }> = [];
  const kept: Row[] = [];
  const views = new Map<string, SessionView>();
  for (const e of registry.entries) {
    if (seen.has(e.context_id)) continue;
    seen.add(e.context_id);
    let view = views.get(e.project_dir);
    if (!view) views.set(e.project_dir, view = await viewOf(e.project_dir));
    const v = judgeContext(e, view, { host, clusterId: o.clusterId, idleHours: o.idleHours, now });
    const row: Row = {
      context_id: e.context_id,
      cluster_id: e.cluster_id,
      project_dir: e.project_dir,
      session_name: e.session_name,
      recorded_at: e.created_at,
      reason: v.reason,
      why: v.why,
    };
    if (v.action === "destroy") collect.push({ ...row, entry: e });
    else kept.push(row);
  }
  const remote = (clusterId: string): Remote => ({ ctx, client: conn.client, clusterId });
  const common = {
    registry: registry.path ?? null,
    kept,
    ...(registry.unreadable.length ? { unreadable_registry_lines: registry.unreadable.length } : {}),
  };

  if (o.dryRun) {
    const toDestroy = [];
    for (const { entry: _e, ...row } of collect) {
      const gone = await isContextGone(remote(row.cluster_id), row.context_id).catch(() => undefined);
      toDestroy.push({ ...row, context_alive: gone === undefined ? null : !gone });
    }
    return { exitCode: 0, response: { status: "planned", to_destroy: toDestroy, ...common } };
  }

  const destroyed = [];
  const failed = [];
  const drop = new Set<string>();
  let firstError: { exitCode: number } | undefined;
  for (const { entry: _e, ...row } of collect) {
    try {
      await commands.destroyContext(conn.client, row.cluster_id, row.context_id);
      destroyed.push({ ...row, result: "destroyed" });
      drop.add(row.context_id);
    } catch (e) {
      // A context that is already gone (evicted, cluster restarted or deleted) is what gc wants.
      const gone = isDbxrError(e) &&
        await isContextGone(remote(row.cluster_id), row.context_id).catch(() => false);
      if (gone) {
        destroyed.push({ ...row, result: "already_gone" });
        drop.add(row.context_id);
      } else {
        const err = isDbxrError(e) ? e : undefined;
        failed.push({ ...row, error: err?.code ?? "Error", message: (e as Error).message });
        firstError ??= { exitCode: err?.exitCode ?? 1 };
      }
    }
  }
  const removed = await removeFromRegistry(ctx, drop);
  return {
    exitCode: firstError?.exitCode ?? 0,
    response: {
      status: failed.length ? "Error" : "collected",
      destroyed,
      ...(failed.length ? { failed } : {}),
      registry_entries_removed: removed,
      ...common,
    },
  };
}

export function gcText(r: Record<string, unknown>): string {
  const acted = (r.to_destroy ?? r.destroyed ?? []) as Array<Row & { result?: string }>;
  const failed = (r.failed ?? []) as Row[];
  const kept = (r.kept ?? []) as Row[];
  const verb = r.status === "planned" ? "would destroy" : "destroyed";
  const rows = [
    ...acted.map((
      x,
    ) => [x.context_id, x.cluster_id, x.result === "already_gone" ? "already gone" : verb, x.why]),
    ...failed.map((x) => [x.context_id, x.cluster_id, "failed", x.why]),
    ...kept.map((x) => [x.context_id, x.cluster_id, "kept", x.why]),
  ];
  const head = r.status === "planned"
    ? `${acted.length} context(s) to destroy, ${kept.length} kept (dry run)`
    : `${acted.length} context(s) destroyed, ${failed.length} failed, ${kept.length} kept`;
  return `${head}\n${table(["CONTEXT", "CLUSTER", "ACTION", "WHY"], rows)}`.replace(/ +$/gm, "");
}
