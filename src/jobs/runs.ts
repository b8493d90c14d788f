// job status and job cancel as services (the CLI and `dbxr mcp` share them).

import * as jobs from "../api/jobs.ts";
import type { ApiClient } from "../api/http.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import { poll } from "../poll.ts";
import { isTerminal, runJson } from "./watch.ts";

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
  const settled = await poll(ctx, async () => {
    const r = await jobs.get(client, id);
    return isTerminal(r) ? { done: true, value: r } : { done: false };
  }, { timeoutMs: 60_000, schedule: () => 1_000, signal: ctx.signal });
  const r = settled.done && settled.value ? settled.value : await jobs.get(client, id);
  return { status: "cancelled", settled: settled.done, ...runJson(r) };
}

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
