// The output of `job check`: a stable JSON object for agents and CI, and text for people.

import { EXIT_CODES } from "../errors.ts";
import type { Finding, PreflightReport, Severity } from "./preflight.ts";
import { plainStyle, type Style, table } from "../table.ts";

export interface PreflightJson {
  status: "ok" | "PreflightFailed";
  /** Present when the check failed, as on every dbxr error (docs/contract.md §6). */
  error?: "PreflightFailed";
  message: string;
  /** The first fix command of the first error, when there is one. */
  hint?: string;
  files: string[];
  findings: Finding[];
  /** `catalog.schema` pairs the scripts register into or use. */
  uc_targets: string[];
  /** What touches Unity Catalog, where. */
  uc_objects: PreflightReport["uc_objects"];
  counts: Record<Severity, number>;
  strict: boolean;
}

export function preflightJson(r: PreflightReport): PreflightJson {
  const failed = r.status === "PreflightFailed";
  const blocking = r.findings.find((f) => f.severity === "error" || (r.strict && f.severity === "warning"));
  return {
    status: r.status,
    ...(failed ? { error: "PreflightFailed" as const } : {}),
    message: summary(r),
    ...(failed && blocking?.command ? { hint: blocking.command } : {}),
    files: r.files,
    findings: r.findings,
    uc_targets: r.uc_targets,
    uc_objects: r.uc_objects,
    counts: r.counts,
    strict: r.strict,
  };
}

/** 1 (PreflightFailed) when there are errors, or warnings under --strict; 0 otherwise. */
export function preflightExitCode(r: Pick<PreflightReport, "status">): number {
  return r.status === "PreflightFailed" ? EXIT_CODES.PreflightFailed : 0;
}

/**
 * A table of the findings (where, severity, rule, message), then why/fix/run for each under its
 * `file:line:col rule` (the form editors and terminals link), then a summary line.
 */
export function preflightText(r: PreflightJson, style: Style = plainStyle): string {
  const lines: string[] = [];
  const where = (f: Finding) => `${f.file}:${f.line}:${f.column}`;
  if (r.findings.length > 0) {
    lines.push(table(
      ["WHERE", "SEVERITY", "RULE", "MESSAGE"],
      r.findings.map((f) => [where(f), f.severity, f.rule, f.message]),
      { style, stateColumns: [1] },
    ));
    for (const f of r.findings) {
      lines.push("", `${where(f)} ${f.rule}`);
      lines.push(`    why: ${plain(f.explanation)}`);
      lines.push(`    fix: ${plain(f.fix)}`);
      if (f.command) lines.push(`    run: ${f.command}`);
    }
    lines.push("");
  }
  lines.push(`${style.state(r.status)}: ${r.message}`);
  if (r.uc_targets.length > 0) {
    lines.push(
      `Unity Catalog schemas: ${r.uc_targets.join(", ")} (dbxr uc ensure-schema ${r.uc_targets[0]})`,
    );
  }
  return lines.join("\n") + "\n";
}

function summary(r: PreflightReport): string {
  const n = (k: number, word: string) => `${k} ${word}${k === 1 ? "" : "s"}`;
  const files = n(r.files.length, "file");
  if (r.findings.length === 0) return `no problems found in ${files}`;
  const parts = [n(r.counts.error, "error"), n(r.counts.warning, "warning"), `${r.counts.info} info`];
  const strictNote = r.strict && r.counts.error === 0 && r.counts.warning > 0
    ? " (warnings fail with --strict)"
    : "";
  return `${parts.join(", ")} in ${files}${strictNote}`;
}

/** Markdown emphasis from the seed's quotes reads as noise in a terminal. */
function plain(s: string): string {
  return s.replace(/\*\*/g, "");
}
