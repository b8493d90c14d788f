// Text renderings of the seed's REPL answers, for `--text`. They print JSON by default, as the seed did;
// these say the same things in lines for people. Pure functions of the JSON.

import { plainStyle, type Style, table } from "../table.ts";

// deno-lint-ignore no-explicit-any
type J = Record<string, any>;

const kv = (rows: Array<[string, unknown]>) => {
  const shown = rows.filter(([, v]) => v !== undefined && v !== null && v !== "");
  const w = Math.max(...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
};

function tipLines(tip: J | undefined): string[] {
  if (!tip) return [];
  return Object.entries(tip).map(([k, v]) => `  ${k}: ${v}`);
}

/** exec and await: the step's status, its files and sizes, the previews. */
export function execText(r: J, style: Style = plainStyle): string {
  if (r.status === "ContextEvicted") return evictedText(r, style);
  const lines = [`${r.cmd_id ?? "step"}: ${style.state(String(r.status))} after ${r.elapsed_seconds ?? 0}s`];
  if (r.message) lines.push(`  ${r.message}`);
  lines.push(...tipLines(r.tip));
  if (r.stdout_file) lines.push(`  stdout: ${r.stdout_file} (${r.stdout_bytes ?? 0} bytes)`);
  if (r.stderr_file) lines.push(`  stderr: ${r.stderr_file} (${r.stderr_bytes ?? 0} bytes)`);
  if (r.result_file) lines.push(`  result: ${r.result_file}`);
  if (r.truncated) lines.push("  (the output was truncated by Databricks; the files hold what was kept)");
  for (const [name, text] of [["stdout", r.stdout_preview], ["stderr", r.stderr_preview]] as const) {
    if (!text) continue;
    lines.push("", style.dim(`--- ${name} (preview) ---`), String(text).replace(/\n$/, ""));
  }
  return lines.join("\n");
}

function evictedText(r: J, style: Style): string {
  const steps = (r.previous_steps ?? []) as J[];
  return [
    `${style.state("ContextEvicted")}: ${r.message ?? ""}`,
    `  new context: ${r.new_context_id}`,
    ...(steps.length
      ? [
        "",
        "Steps to replay:",
        table(["STEP", "TAG", "COMMAND FILE"], steps.map((s) => [s.step, s.tag, s.command_file]), { style }),
      ]
      : []),
  ].join("\n");
}

export function createText(r: J, style: Style = plainStyle): string {
  return [
    `session ${style.state(String(r.status))} in ${r.project_dir}`,
    ...kv([
      ["cluster", r.cluster_id],
      ["context", r.context_id],
      ["session file", r.session_file],
      ["outputs", r.output_dir],
      ["previous", r.previous_session_file],
    ]).map((l) => `  ${l}`),
  ].join("\n");
}

export function cancelText(r: J, style: Style = plainStyle): string {
  if (r.status === "ContextEvicted") return evictedText(r, style);
  const what = r.cmd_id ?? r.command_id ?? "command";
  return [
    `${what}: ${style.state(String(r.status))}${r.settled === false ? " (not ended yet)" : ""}` +
    (r.step_status ? `, recorded as ${style.state(String(r.step_status))}` : ""),
    ...(r.message ? [`  ${r.message}`] : []),
  ].join("\n");
}

export function destroyText(r: J, style: Style = plainStyle): string {
  return `session ${
    style.state(String(r.status))
  } in ${r.project_dir}: ${r.steps_completed} step(s) recorded, ` +
    `files kept (${r.session_file})`;
}

export function statusText(r: J, style: Style = plainStyle): string {
  const last = r.last_step as J | null;
  const active = r.active_command as J | null;
  const lines = [
    `session ${r.session_name} (${style.state(String(r.status))}) in ${r.project_dir}`,
    ...kv([
      ["cluster", r.cluster_state ? `${r.cluster_id} ${style.state(String(r.cluster_state))}` : r.cluster_id],
      [
        "context",
        `${r.context_id}${
          r.context_alive === true ? " alive" : r.context_alive === false ? ` ${style.state("gone")}` : ""
        }`,
      ],
      ["language", r.language],
      ["steps", r.steps],
      ["evictions", r.eviction_count || undefined],
      ["created", r.created_at],
      ["destroyed", r.destroyed_at],
    ]).map((l) => `  ${l}`),
  ];
  if (last) {
    lines.push("", "Last step:");
    lines.push(table(
      ["STEP", "TAG", "STATUS", "SECONDS", "COMMAND FILE"],
      [[last.step, last.tag, last.status, last.elapsed_seconds, last.command_file]],
      { style, stateColumns: [2] },
    ));
  }
  if (active) {
    lines.push("", "Active command:");
    lines.push(table(
      ["CMD ID", "COMMAND ID", "REMOTE STATUS", "STARTED"],
      [[active.cmd_id, active.command_id, active.remote_status, active.started_at]],
      { style, stateColumns: [2] },
    ));
    if (active.hint) lines.push(`  next: ${active.hint}`);
  }
  if (r.hint) lines.push("", `next: ${r.hint}`);
  return lines.join("\n");
}
