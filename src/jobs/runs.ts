// job status, output, diagnose and cancel as services: the CLI commands and `dbxr mcp` call these.

import * as jobs from "../api/jobs.ts";
import type { ApiClient } from "../api/http.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import { poll } from "../poll.ts";
import { collectOutputs, diagnoseRun, isTerminal, runJson, runProgress, runRuntime } from "./watch.ts";

/** What `job status` prints: the run and one line per task. */
export async function runStatus(client: ApiClient, id: number) {
  const r = await jobs.get(client, id);
  const tasks = (r.tasks ?? []).map((t) => ({
    task_key: t.task_key,
    run_id: t.run_id,
    life_cycle_state: t.state?.life_cycle_state ?? null,
    result_state: t.state?.result_state ?? null,
    state_message: t.state?.state_message ?? "",
  }));
  return { ...runJson(r), tasks };
}

/** `job output`: every task's output into job_outputs/<run_id>/, with a preview of each log's end. */
export async function runOutput(
  ctx: Ctx,
  client: ApiClient,
  id: number,
  projectDir: string,
  previewChars = 200,
) {
  const r = await jobs.get(client, id);
  const { tasks } = await collectOutputs(ctx, client, r, projectDir, previewChars);
  return { ...runJson(r), tasks };
}

/** `job diagnose`: the outputs, then the known failures that match them. */
export async function runDiagnosis(ctx: Ctx, client: ApiClient, id: number, projectDir: string) {
  const r = await jobs.get(client, id);
  const { tasks, outputs } = await collectOutputs(ctx, client, r, projectDir);
  const sparkVersion = await runRuntime(client, r);
  return { ...runJson(r), tasks, diagnosis: diagnoseRun(r, outputs, { sparkVersion }) };
}

/** `job cancel`: refuse a run that has ended, send the cancel, wait (bounded) until it has ended. */
export async function cancelRun(ctx: Ctx, client: ApiClient, id: number) {
  const before = await jobs.get(client, id);
  if (isTerminal(before)) {
    throw new DbxrError(
      "NothingToCancel",
      `Run ${id} has already ended (${before.state?.result_state ?? before.state?.life_cycle_state}).`,
      { hint: `dbxr job status ${id}`, details: runJson(before) },
    );
  }
  await jobs.cancel(client, id);
  const progress = ctx.out.wait(`run ${id}`);
  const settled = await poll(ctx, async () => {
    const r = await jobs.get(client, id);
    return isTerminal(r) ? { done: true, value: r } : { done: false, progress: runProgress(r) };
  }, { timeoutMs: 60_000, schedule: () => 1_000, signal: ctx.signal, onPoll: progress.step });
  if (settled.done) progress.end(runProgress(settled.value), settled.elapsedMs);
  const r = settled.done && settled.value ? settled.value : await jobs.get(client, id);
  return { status: "cancelled", settled: settled.done, ...runJson(r) };
}
