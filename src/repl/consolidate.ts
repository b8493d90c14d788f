// `dbxr repl consolidate`: reads session.json (seed-written ones too, never changing them) and the steps'
// command files, writes one script (src/session/consolidate.ts decides what goes in it), then runs the job
// checks on it. Local only: no workspace, no credentials.

import { join } from "node:path";
import bootstrapSource from "../assets/repl_bootstrap_py.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import { checkFiles } from "../jobs/check.ts";
import { writeFileAtomic } from "../session/atomic.ts";
import { consolidate, type StepSource } from "../session/consolidate.ts";
import { filesOf } from "../session/files.ts";
import { SESSION_FILE } from "../session/store.ts";
import { shellQuote } from "../shell.ts";
import { shownPath, storeFor } from "./env.ts";

export interface ConsolidateOptions {
  projectDir?: string;
  out?: string;
  includeFailed?: boolean;
  force?: boolean;
}

export async function consolidateSession(ctx: Ctx, o: ConsolidateOptions) {
  const { store, label } = storeFor(ctx, { projectDir: o.projectDir });
  const session = await store.read();
  const steps: StepSource[] = [];
  for (const rec of session.steps) {
    const files = filesOf(rec, session.language);
    const language = files.cmd.endsWith(".sql") ? "sql" : files.cmd.endsWith(".scala") ? "scala" : "python";
    const code = await ctx.readTextFile(join(store.projectDir, rec.command_file));
    steps.push({ step: rec.step, tag: rec.tag, status: rec.status, language, code });
  }
  const source = shownPath(label, `./${SESSION_FILE}`);
  const here = label === "." ? "" : ` --project-dir ${shellQuote(label)}`;
  const result = consolidate({
    sessionName: session.session_name,
    source,
    steps,
    includeFailed: o.includeFailed,
    helpers: bootstrapSource,
  });
  if (!result.kept.some((k) => k.section !== null)) {
    throw new DbxrError(
      "NotFound",
      `Session ${session.session_name} has no successful step to consolidate ` +
        `(${session.steps.length} attempted).`,
      {
        hint: session.steps.length
          ? `dbxr repl consolidate --include-failed${here}`
          : `dbxr exec --command CODE --tag TAG${here}`,
        details: { steps_attempted: session.steps.length },
      },
    );
  }

  const outPath = o.out ?? join(store.projectDir, `${scriptName(session.session_name)}.py`);
  const shownOut = o.out ?? shownPath(label, `./${scriptName(session.session_name)}.py`);
  if (!o.force && (await ctx.readTextFile(outPath)) !== undefined) {
    throw new DbxrError(
      "InvalidArgument",
      `${shownOut} already exists; it is not overwritten without --force.`,
      {
        hint: `dbxr repl consolidate --out ${shellQuote(shownOut)} --force${here}`,
        details: { out_file: shownOut },
      },
    );
  }
  await writeFileAtomic(outPath, result.text);
  const check = await checkFiles(ctx, [outPath]);

  return {
    status: "consolidated",
    out_file: shownOut,
    session_name: session.session_name,
    source,
    steps_kept: result.kept.filter((k) => k.status === "Finished").length,
    steps_attempted: result.attempted,
    steps: result.kept.map((k) => ({ section: k.section, step: k.step, tag: k.tag, status: k.status })),
    skipped: result.skipped,
    requires: result.requires,
    imports: result.imports,
    helpers_included: result.usesSubLlm,
    notes: result.notes,
    job_check: {
      status: check.status,
      findings: check.findings.map((f) => ({ ...f, file: shownOut })),
    },
  };
}

/** The default file name: the session name with anything but letters, digits, `_`, `-` and `.` as `_`. */
export function scriptName(sessionName: string): string {
  const s = sessionName.replace(/[^A-Za-z0-9_.-]+/g, "_").replace(/^[.]+/, "").slice(0, 100);
  return s || "session";
}

export type ConsolidateAnswer = Awaited<ReturnType<typeof consolidateSession>>;

export function consolidateText(a: ConsolidateAnswer): string {
  const lines = [
    `wrote ${a.out_file}: ${a.steps_kept} of ${a.steps_attempted} steps` +
    (a.requires.length ? `, requires ${a.requires.join(", ")}` : ""),
    ...a.steps.map((s) =>
      `  ${s.section === null ? "-" : String(s.section).padStart(2)}  step ${s.step} ${s.tag}` +
      (s.status === "Finished" ? "" : ` (${s.status})`) + (s.section === null ? " (imports/%pip only)" : "")
    ),
    ...a.skipped.map((s) => `  skipped step ${s.step} ${s.tag}: ${s.reason.replace("_", " ")}`),
    ...a.notes.map((n) => `note: ${n}`),
    `job check: ${a.job_check.status}${a.job_check.findings.length ? "" : " (no findings)"}`,
    ...a.job_check.findings.map((f) =>
      `  ${String(f.severity).padEnd(7)} ${f.rule} line ${f.line}: ${f.message}`
    ),
  ];
  return lines.join("\n");
}
