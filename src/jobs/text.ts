// Text for the job commands (run, watch, status, output, cancel, diagnose, list). One vocabulary for a
// run's state everywhere, progress lines included: Databricks' life-cycle state, then its result state
// (`TERMINATED SUCCESS`, `INTERNAL_ERROR FAILED`, `RUNNING`). dbxr's own outcome (`RunFailed`,
// `Running` after a timeout, `Cancelled` on Ctrl-C, `submitted`) is named apart, never mixed into it.

import { plainStyle, runState, type Style, table } from "../table.ts";

// deno-lint-ignore no-explicit-any
type J = Record<string, any>;

/** dbxr's outcomes that say more than the run's state (SUCCESS/ok do not). */
const OUTCOMES = new Set(["RunFailed", "Running", "Cancelled", "cancelled", "submitted"]);

export function runReportText(r: J, style: Style = plainStyle): string {
  const state = runState(r.life_cycle_state, r.result_state);
  const outcome = OUTCOMES.has(r.status) ? r.status : undefined;
  const head = `run ${r.run_id}` + (state ? `  ${style.state(state)}` : "") +
    (outcome ? `  (${style.state(outcome)}${r.settled === false ? ", not ended yet" : ""})` : "");
  const lines = [head];
  if (r.run_name) lines.push(`  name: ${r.run_name}`);
  if (r.run_page_url) lines.push(`  ${style.dim(r.run_page_url)}`);
  if (r.state_message && !r.message) lines.push(`  ${r.state_message}`);
  if (r.message) lines.push(`  ${r.message}`);
  for (const [k, v] of Object.entries((r.tip ?? {}) as J)) lines.push(`  ${k}: ${v}`);
  if (r.status === "submitted") lines.push(`  follow it: dbxr job watch ${r.run_id}`);
  const tasks = (r.tasks ?? []) as J[];
  if (tasks.length) {
    lines.push(
      "",
      table(
        ["TASK", "RUN ID", "STATE", "LOG", "ERROR"],
        tasks.map((t) => [
          t.task_key,
          t.run_id,
          // `job status` has both states of a task; run/watch/output record its result state.
          runState(t.life_cycle_state, t.result_state),
          t.log_file,
          t.error ? String(t.error).split("\n")[0] : t.state_message,
        ]),
        { style, stateColumns: [2] },
      ),
    );
  }
  const diagnosis = (r.diagnosis ?? []) as J[];
  for (const d of diagnosis) {
    lines.push("", `cause: ${d.cause}`, `fix:   ${d.fix}`, ...(d.command ? [`run:   ${d.command}`] : []));
  }
  if (r.hint && !diagnosis.some((d) => d.command === r.hint)) lines.push("", `next: ${r.hint}`);
  return lines.join("\n");
}

export function runListText(runs: J[], style: Style = plainStyle): string {
  return table(
    ["RUN ID", "STATE", "STARTED (UTC)", "NAME"],
    runs.map((
      r,
    ) => [r.run_id, runState(r.life_cycle_state, r.result_state), utcMinute(r.start_time), r.run_name]),
    { style, stateColumns: [1], empty: "(no runs)" },
  );
}

function utcMinute(ms: number | null | undefined): string | undefined {
  if (!ms) return undefined;
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}
