// `dbxr skill install`: writes the agent skill carried in the binary (src/skill/files.ts, generated from
// skills/dbxr/) into a skills folder, so the skill always matches the binary that runs it. A file the user
// changed is kept unless --force; an identical file is left alone.

import { isAbsolute, join } from "node:path";
import type { Ctx } from "../ctx.ts";
import { shellQuote } from "../shell.ts";
import { VERSION } from "../version.ts";
import { SKILL_FILES } from "./files.ts";

export const SKILL_NAME = "dbxr";
export const DEFAULT_SKILLS_DIR = ".claude/skills";

export interface InstallOptions {
  /** The skills folder (the skill goes into <dir>/dbxr); relative paths are under projectDir. */
  dir: string;
  projectDir?: string;
  force: boolean;
}

export interface InstallReport {
  status: "installed" | "partial";
  skill_dir: string;
  version: string;
  /** Files created or replaced. */
  written: string[];
  /** Files already identical to the binary's. */
  unchanged: string[];
  /** Files that differ from the binary's and were kept (no --force). */
  skipped: Array<{ path: string; reason: string }>;
  message?: string;
  hint?: string;
}

/** What to do with one file, given what is on disk: pure, for the tests. */
export function planFile(current: string | undefined, wanted: string, force: boolean) {
  if (current === wanted) return "unchanged" as const;
  if (current === undefined || force) return "write" as const;
  return "skip" as const;
}

export async function installSkill(
  ctx: Ctx,
  o: InstallOptions,
  files: Readonly<Record<string, string>> = SKILL_FILES,
): Promise<{ report: InstallReport; exitCode: number }> {
  const skillsDir = isAbsolute(o.dir) ? o.dir : join(o.projectDir ?? ".", o.dir);
  const skillDir = join(skillsDir, SKILL_NAME);
  const report: InstallReport = {
    status: "installed",
    skill_dir: skillDir,
    version: VERSION,
    written: [],
    unchanged: [],
    skipped: [],
  };
  for (const [rel, content] of Object.entries(files)) {
    const path = join(skillDir, rel);
    const action = planFile(await ctx.readTextFile(path), content, o.force);
    if (action === "unchanged") report.unchanged.push(path);
    else if (action === "skip") report.skipped.push({ path, reason: "changed since it was installed" });
    else {
      await ctx.writeTextFile(path, content);
      report.written.push(path);
    }
  }
  if (report.skipped.length === 0) return { report, exitCode: 0 };
  const again = ["dbxr skill install --force"];
  if (o.dir !== DEFAULT_SKILLS_DIR) again.push(`--dir ${shellQuote(o.dir)}`);
  if (o.projectDir !== undefined && !isAbsolute(o.dir)) {
    again.push(`--project-dir ${shellQuote(o.projectDir)}`);
  }
  return {
    exitCode: 5,
    report: {
      ...report,
      status: "partial",
      message: `${report.skipped.length} file(s) differ from dbxr ${VERSION}'s skill and were kept; ` +
        "--force replaces them (save your changes elsewhere first).",
      hint: again.join(" "),
    },
  };
}

export function installText(r: InstallReport): string {
  const lines = [`dbxr skill ${r.version} in ${r.skill_dir}`];
  for (const p of r.written) lines.push(`  wrote      ${p}`);
  for (const p of r.unchanged) lines.push(`  unchanged  ${p}`);
  for (const s of r.skipped) lines.push(`  kept       ${s.path} (${s.reason})`);
  if (r.hint) lines.push(`next: ${r.hint}`);
  return lines.join("\n");
}
