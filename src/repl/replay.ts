// `dbxr repl replay`: the recorded steps run again, in order, into the session's current context (after
// an eviction, or at any time). Which steps run is decided by the pure plan (session/replay_plan.ts);
// each one then goes through execStep like any exec, so it gets its own step number, its files, the
// lock discipline and eviction handling, and is recorded with `replay_of`.

import type { Ctx } from "../ctx.ts";
import { DbxrError, isDbxrError } from "../errors.ts";
import { projectPath } from "../session/files.ts";
import { type PlannedStep, planReplay, type ReplayPlan } from "../session/replay_plan.ts";
import type { Session } from "../session/schema.ts";
import { shellQuote } from "../shell.ts";
import { table } from "../table.ts";
import { openRepl, type ReplFlags, shownPath, storeFor } from "./env.ts";
import { type ExecResult, execStep } from "./exec.ts";
import { handleEviction } from "./eviction.ts";
import { isContextGone } from "./remote.ts";

export interface ReplayOptions {
  from?: number;
  to?: number;
  only?: string[];
  allAttempts: boolean;
  dryRun: boolean;
  /** Go on after a replayed step fails (Error); the answer still carries the first failure's code. */
  skipFailed: boolean;
  timeoutSeconds: number;
  previewChars: number;
}

export interface ReplayResult {
  response: Record<string, unknown>;
  exitCode: number;
}

/** Reads the command file of every recorded step: step number → code (undefined when missing). */
async function readCommandFiles(projectDir: string, s: Session): Promise<Map<number, string | undefined>> {
  const code = new Map<number, string | undefined>();
  for (const st of s.steps) {
    let text: string | undefined;
    try {
      text = await Deno.readTextFile(projectPath(projectDir, st.command_file));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound || e instanceof RangeError)) throw e;
    }
    code.set(st.step, text);
  }
  return code;
}

function planJson(plan: ReplayPlan, label: string) {
  const shown = (p: string) => shownPath(label, p);
  return {
    run: plan.run.map((r) => ({ ...r, command_file: shown(r.command_file) })),
    skipped: plan.skipped.map((s) => ({ ...s, command_file: shown(s.command_file) })),
    recorded_seconds: plan.recorded_seconds,
    warnings: plan.warnings,
  };
}

function planOf(s: Session, o: ReplayOptions, code: Map<number, string | undefined>): ReplayPlan {
  return planReplay(s.steps, {
    from: o.from,
    to: o.to,
    only: o.only,
    allAttempts: o.allAttempts,
    language: s.language,
    code,
  });
}

/** The same selection as a command line, for hints that continue where a replay stopped. */
function replayCommand(label: string, o: ReplayOptions, from?: number): string {
  const parts = ["dbxr repl replay"];
  const start = from ?? o.from;
  if (start !== undefined) parts.push(`--from ${start}`);
  if (o.to !== undefined) parts.push(`--to ${o.to}`);
  if (o.only?.length) parts.push(`--only ${shellQuote(o.only.join(","))}`);
  if (o.allAttempts) parts.push("--all-attempts");
  if (o.skipFailed) parts.push("--skip-failed");
  parts.push(`--project-dir ${shellQuote(label)}`);
  return parts.join(" ");
}

export async function replaySession(ctx: Ctx, flags: ReplFlags, o: ReplayOptions): Promise<ReplayResult> {
  if (o.dryRun) {
    // The plan needs only the files: no connection, and it works on a destroyed session too.
    const { store, label } = storeFor(ctx, flags);
    const s = await store.read();
    const plan = planOf(s, o, await readCommandFiles(store.projectDir, s));
    return {
      exitCode: 0,
      response: {
        status: "planned",
        project_dir: label,
        session_name: s.session_name,
        session_status: s.status,
        context_id: s.context_id,
        ...planJson(plan, label),
        ...(s.status === "destroyed"
          ? {
            hint: `dbxr create --cluster-id ${s.cluster_id} --session-name ${
              shellQuote(s.session_name)
            } --project-dir ${shellQuote(label)}`,
          }
          : plan.run.length > 0
          ? { hint: replayCommand(label, o) }
          : {}),
      },
    };
  }

  const env = await openRepl(ctx, flags, "replay");
  const label = env.projectDirLabel;
  const session = await env.loadSession();
  const code = await readCommandFiles(env.store.projectDir, session);
  const plan = planOf(session, o, code);
  const missing = plan.skipped.filter((s) => s.reason === "missing_file");
  if (missing.length > 0) {
    // Running the rest would not restore the state that the later steps were written against.
    throw new DbxrError(
      "FileNotFound",
      `The command file of ${missing.length === 1 ? "step" : "steps"} ${
        missing.map((m) => m.step).join(", ")
      } is missing; nothing was replayed.`,
      {
        hint: `dbxr repl replay --dry-run --project-dir ${shellQuote(label)}`,
        details: { missing: missing.map((m) => ({ step: m.step, command_file: m.command_file })) },
      },
    );
  }
  const skipped = planJson({ ...plan, run: [] }, label).skipped;

  // A context that is already gone is replaced before the first step, so that no replayed step is
  // spent on discovering it.
  let recreated: string | undefined;
  if (plan.run.length > 0 && !session.active_command) {
    const gone = await isContextGone(env.remote, session.context_id);
    if (gone) {
      recreated = session.context_id;
      await handleEviction(env, session.context_id);
    }
  }

  const ran: Array<Record<string, unknown>> = [];
  let first:
    | { status: string; exitCode: number; index: number; response: Record<string, unknown> }
    | undefined;
  let stoppedAt: number | undefined;
  let stopError: DbxrError | undefined;
  for (const [i, p] of plan.run.entries()) {
    if (ctx.signal.aborted) {
      stoppedAt = i;
      break;
    }
    let r: ExecResult;
    try {
      r = await execStep(env, {
        code: code.get(p.step)!,
        tag: p.tag,
        timeoutSeconds: o.timeoutSeconds,
        previewChars: o.previewChars,
        replayOf: p.step,
      });
    } catch (e) {
      if (!isDbxrError(e) || ran.length === 0) throw e;
      // Some steps ran: answer with them, and the error that stopped the rest.
      stopError = e;
      stoppedAt = i;
      break;
    }
    const status = String(r.response.status);
    ran.push(stepJson(p, r.response));
    if (status !== "Finished" && !first) {
      first = { status, exitCode: r.exitCode, index: i, response: r.response };
    }
    if (status === "Finished") continue;
    if (status === "Error" && o.skipFailed) continue;
    stoppedAt = i + 1;
    break;
  }
  const notRun = stoppedAt === undefined ? [] : plan.run.slice(stoppedAt).map((p) => ({
    step: p.step,
    tag: p.tag,
    command_file: shownPath(label, p.command_file),
  }));
  const base = {
    project_dir: label,
    context_id: (await env.store.read()).context_id,
    ...(recreated ? { replaced_context_id: recreated } : {}),
    steps: ran,
    skipped,
    not_run: notRun,
    recorded_seconds: plan.recorded_seconds,
    warnings: plan.warnings,
  };
  if (stopError) {
    const err = stopError.toJSON() as Record<string, unknown>;
    return { exitCode: first?.exitCode ?? stopError.exitCode, response: { ...err, ...base } };
  }
  if (!first && stoppedAt !== undefined) {
    // Ctrl-C between two steps: nothing failed, but the rest was not run.
    return {
      exitCode: 130,
      response: {
        status: "Cancelled",
        message: "Replay interrupted by user; the steps in not_run were not run.",
        ...(notRun.length ? { hint: replayCommand(label, o, notRun[0].step) } : {}),
        ...base,
      },
    };
  }
  if (!first) {
    return {
      exitCode: 0,
      response: {
        status: "replayed",
        message: plan.run.length === 0
          ? "Nothing to replay: no recorded step is planned to run (see skipped)."
          : `Replayed ${ran.length} step${ran.length === 1 ? "" : "s"}.`,
        ...base,
      },
    };
  }
  return {
    exitCode: first.exitCode,
    response: {
      status: first.status,
      message: failureMessage(first.status, plan.run[first.index], o.skipFailed),
      failed_step: { replay_of: plan.run[first.index].step, cmd_id: first.response.cmd_id ?? null },
      ...failureHint(first, plan.run, label, o),
      ...base,
    },
  };
}

function stepJson(p: PlannedStep, r: Record<string, unknown>): Record<string, unknown> {
  // previous_steps of an eviction met during the replay would only repeat the plan.
  const { status, cmd_id, previous_steps: _previous, ...rest } = r;
  return {
    replay_of: p.step,
    tag: p.tag,
    cmd_id: cmd_id ?? null,
    status,
    ...rest,
    recorded_elapsed_seconds: p.elapsed_seconds,
  };
}

function failureMessage(status: string, p: PlannedStep, skipFailed: boolean): string {
  const which = `step ${p.step} (${p.tag})`;
  switch (status) {
    case "Error":
      return skipFailed
        ? `The replay of ${which} failed; the other steps went on (--skip-failed).`
        : `The replay of ${which} failed; the steps after it were not run.`;
    case "Running":
      return `The replay of ${which} is still running after --timeout; await it, then replay the rest.`;
    case "ContextEvicted":
      return `The context was lost during the replay of ${which}; a fresh one was created. Replay again.`;
    case "Cancelled":
      return `The replay of ${which} was cancelled; the steps after it were not run.`;
    default:
      return `The replay of ${which} ended as ${status}.`;
  }
}

function failureHint(
  first: { status: string; index: number; response: Record<string, unknown> },
  run: PlannedStep[],
  label: string,
  o: ReplayOptions,
): { hint?: string; tip?: unknown } {
  const next = run[first.index + 1]?.step;
  if (first.status === "Running") {
    return {
      hint: `dbxr await --project-dir ${shellQuote(label)}`,
      tip: {
        ...(first.response.tip as Record<string, string>),
        ...(next !== undefined ? { then: replayCommand(label, o, next) } : {}),
      },
    };
  }
  if (first.status === "ContextEvicted") return { hint: replayCommand(label, o) };
  const stderr = first.response.stderr_file;
  return typeof stderr === "string" ? { hint: `cat ${shellQuote(stderr)}` } : {};
}

/** The plan or the outcome, for people. */
export function replayText(r: Record<string, unknown>): string {
  const lines: string[] = [];
  const skipped = (r.skipped ?? []) as Array<{ step: number; tag: string; why: string }>;
  const secs = (v: unknown) => typeof v === "number" ? `${v.toFixed(1)}s` : "-";
  if (r.status === "planned") {
    const run = (r.run ?? []) as Array<PlannedStep>;
    lines.push(
      `replay plan for ${r.session_name} (${r.project_dir}): ${run.length} to run, ${skipped.length} skipped`,
    );
    lines.push(table(
      ["STEP", "TAG", "PLAN", "RECORDED", "WHY"],
      [
        ...run.map((
          p,
        ) => [
          p.step,
          p.tag,
          "run",
          secs(p.elapsed_seconds),
          p.side_effects.length ? `side effects: ${p.side_effects.join(", ")}` : "",
        ]),
        ...skipped.map((s) => [s.step, s.tag, "skip", "-", s.why]),
      ].sort((a, b) => Number(a[0]) - Number(b[0])),
    ));
    lines.push(`recorded time of the steps that run: ${secs(r.recorded_seconds)}`);
  } else {
    const steps = (r.steps ?? []) as Array<Record<string, unknown>>;
    lines.push(`${r.status}: ${r.message ?? ""}`.trim());
    lines.push(table(
      ["REPLAY OF", "TAG", "CMD_ID", "STATUS", "ELAPSED", "RECORDED"],
      steps.map((s) => [
        String(s.replay_of),
        String(s.tag),
        String(s.cmd_id ?? "-"),
        String(s.status),
        secs(s.elapsed_seconds),
        secs(s.recorded_elapsed_seconds),
      ]),
    ));
    const notRun = (r.not_run ?? []) as Array<{ step: number }>;
    if (notRun.length) lines.push(`not run: steps ${notRun.map((n) => n.step).join(", ")}`);
    if (skipped.length) lines.push(`skipped: ${skipped.map((s) => `${s.step} (${s.why})`).join("; ")}`);
  }
  for (const w of (r.warnings ?? []) as string[]) lines.push(`warning: ${w}`);
  if (r.hint) lines.push(`next: ${r.hint}`);
  return lines.join("\n").replace(/ +$/gm, "");
}
