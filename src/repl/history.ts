// `dbxr repl history`: the session's steps, for people (a table) and programs (JSON). Read-only and
// offline: session.json is read (a seed-written one is migrated in memory only, never rewritten) and
// output sizes the seed's tool did not record are taken from the files on disk.

import { table } from "../table.ts";
import type { Ctx } from "../ctx.ts";
import { filesOf, projectPath } from "../session/files.ts";
import type { Session, StepRecord } from "../session/schema.ts";
import { type ReplFlags, shownPath, storeFor } from "./env.ts";

export interface HistoryStep {
  step: number;
  tag: string;
  status: string;
  elapsed_seconds: number | null;
  started_at: string | null;
  finished_at: string | null;
  stdout_bytes: number | null;
  stderr_bytes: number | null;
  command_file: string;
  stdout_file: string;
  stderr_file: string;
  result_file?: string;
  replay_of?: number;
  replay?: boolean;
}

export interface History {
  status: string;
  session_name: string;
  project_dir: string;
  session_file: string;
  cluster_id: string;
  context_id: string;
  eviction_count: number;
  steps: HistoryStep[];
  active_command: { step: number; tag: string; cmd_id: string; state: string; started_at: string } | null;
}

async function sizeOf(projectDir: string, rel: string): Promise<number | null> {
  try {
    return (await Deno.stat(projectPath(projectDir, rel))).size;
  } catch {
    return null;
  }
}

export async function sessionHistory(ctx: Ctx, flags: ReplFlags): Promise<History> {
  const { store, label } = storeFor(ctx, flags);
  const s: Session = await store.read();
  const shown = (rel: string) => shownPath(label, rel);
  const steps: HistoryStep[] = [];
  for (const st of s.steps) {
    const files = filesOf(st, s.language);
    steps.push({
      step: st.step,
      tag: st.tag,
      status: st.status,
      elapsed_seconds: numberOrNull(st.elapsed_seconds),
      started_at: st.started_at ?? null,
      finished_at: st.finished_at ?? null,
      stdout_bytes: numberOrNull(st.stdout_bytes) ?? await sizeOf(store.projectDir, files.stdout),
      stderr_bytes: numberOrNull(st.stderr_bytes) ?? await sizeOf(store.projectDir, files.stderr),
      command_file: shown(st.command_file),
      stdout_file: shown(files.stdout),
      stderr_file: shown(files.stderr),
      ...(st.result_file ? { result_file: shown(st.result_file) } : {}),
      ...extrasOf(st),
    });
  }
  const a = s.active_command;
  return {
    status: s.status,
    session_name: s.session_name,
    project_dir: label,
    session_file: shown("session.json"),
    cluster_id: s.cluster_id,
    context_id: s.context_id,
    eviction_count: s.eviction_count ?? 0,
    steps,
    active_command: a
      ? {
        step: a.step,
        tag: a.tag,
        cmd_id: filesOf(a, a.language).cmd_id,
        state: a.state,
        started_at: a.started_at,
      }
      : null,
  };
}

function extrasOf(st: StepRecord): Pick<HistoryStep, "replay_of" | "replay"> {
  return {
    ...(st.replay_of !== undefined ? { replay_of: st.replay_of } : {}),
    ...(st.replay !== undefined ? { replay: st.replay } : {}),
  };
}

function numberOrNull(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** The table for people: step, tag, status, elapsed, bytes (stdout), file (stdout). */
export function historyText(h: History): string {
  const rows = h.steps.map((st) => [
    st.step,
    st.tag,
    st.status + (st.replay_of !== undefined ? ` (replay of ${st.replay_of})` : "") +
    (st.replay === false ? " (no-replay)" : ""),
    st.elapsed_seconds === null ? "-" : `${st.elapsed_seconds.toFixed(1)}s`,
    st.stdout_bytes === null ? "-" : String(st.stdout_bytes),
    st.stdout_file,
  ]);
  if (h.active_command) {
    const a = h.active_command;
    rows.push([a.step, a.tag, a.state === "submitted" ? "Running" : "Submitting", "-", "-", a.cmd_id]);
  }
  const head = `session ${h.session_name} (${h.status}) in ${h.project_dir}: ${h.steps.length} step${
    h.steps.length === 1 ? "" : "s"
  }${h.eviction_count ? `, ${h.eviction_count} eviction${h.eviction_count === 1 ? "" : "s"}` : ""}`;
  return `${head}\n${table(["STEP", "TAG", "STATUS", "ELAPSED", "BYTES", "FILE"], rows)}`.replace(
    / +$/gm,
    "",
  );
}
