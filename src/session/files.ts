// Where a step's files live and what they are called: `repl_outputs/NNN_slug.<kind>` under the
// project dir. Paths handed out are relative to the project dir with forward slashes (they go into
// JSON that agents read); a step's `command_file` keeps the seed's `./repl_outputs/...` form.

import { join } from "../paths.ts";
import type { Language, Session } from "./schema.ts";
import { slugify } from "./slug.ts";

export const OUTPUT_DIR = "repl_outputs";

const COMMAND_EXT: Record<Language, string> = { python: "py", sql: "sql", scala: "scala" };

/** Zero-padded to three digits, growing past 999 (1000_x sorts after 999_x by number, not by name). */
export function padStep(step: number): string {
  return String(step).padStart(3, "0");
}

/** `003_train`: the file prefix, and the `cmd_id` of exec responses. */
export function stepPrefix(step: number, slug: string): string {
  return `${padStep(step)}_${slug}`;
}

/** `./repl_outputs/003_train.cmd.py`, the form of the seed's `command_file`. */
export function commandFileName(step: number, slug: string, language: Language): string {
  return `./${OUTPUT_DIR}/${stepPrefix(step, slug)}.cmd.${COMMAND_EXT[language]}`;
}

export interface StepFiles {
  /** `003_train`. */
  cmd_id: string;
  /** `./repl_outputs/003_train.cmd.py`, as recorded in session.json. */
  command_file: string;
  /** The same file without `./`: `repl_outputs/003_train.cmd.py`. */
  cmd: string;
  stdout: string;
  stderr: string;
  /** Table results. */
  result_json: string;
  /** The first image; see imageFile for more. */
  png: string;
}

export function stepFiles(step: number, slug: string, language: Language): StepFiles {
  const base = `${OUTPUT_DIR}/${stepPrefix(step, slug)}`;
  return {
    cmd_id: stepPrefix(step, slug),
    command_file: commandFileName(step, slug, language),
    cmd: `${base}.cmd.${COMMAND_EXT[language]}`,
    stdout: `${base}.stdout`,
    stderr: `${base}.stderr`,
    result_json: `${base}.result.json`,
    png: `${base}.png`,
  };
}

/** The n-th image of a step (1-based): `.png`, then `.2.png`, `.3.png`. */
export function imageFile(files: StepFiles, n: number): string {
  return n <= 1 ? files.png : files.png.replace(/\.png$/, `.${n}.png`);
}

export interface ParsedStepFile {
  step: number;
  slug: string;
  /** `cmd.py`, `stdout`, `result.json`, `2.png`, ... */
  kind: string;
}

const STEP_FILE = /^(\d+)_(.+?)\.(cmd\.(?:py|sql|scala)|stdout|stderr|result\.json|(?:\d+\.)?png)$/;

/** Reads `003_train.cmd.py` (or a path ending in it) back into its parts; undefined for other names. */
export function parseStepFileName(pathOrName: string): ParsedStepFile | undefined {
  const name = pathOrName.slice(Math.max(pathOrName.lastIndexOf("/"), pathOrName.lastIndexOf("\\")) + 1);
  const m = STEP_FILE.exec(name);
  if (!m) return undefined;
  const step = Number(m[1]);
  return Number.isSafeInteger(step) ? { step, slug: m[2], kind: m[3] } : undefined;
}

/**
 * The files of a recorded step (or the active command). Derived from the command file that was
 * really written, because the seed's tool named files after the raw tag; a step without a readable
 * command file falls back to its number and tag.
 */
export function filesOf(
  rec: { step: number; tag: string; command_file: string; slug?: string },
  fallbackLanguage: Language = "python",
): StepFiles {
  const parsed = parseStepFileName(rec.command_file);
  const language = languageOfCommandFile(rec.command_file) ?? fallbackLanguage;
  if (parsed && parsed.step === rec.step && parsed.kind.startsWith("cmd.")) {
    return { ...stepFiles(rec.step, parsed.slug, language), command_file: rec.command_file };
  }
  return stepFiles(rec.step, rec.slug ?? slugify(rec.tag), language);
}

function languageOfCommandFile(path: string): Language | undefined {
  const ext = /\.cmd\.(py|sql|scala)$/.exec(path)?.[1];
  return ext === "py" ? "python" : ext === "sql" ? "sql" : ext === "scala" ? "scala" : undefined;
}

const STEP_NUMBER_PREFIX = /^(\d+)_/;

/**
 * The highest `NNN_` among the files in `<projectDir>/repl_outputs` (0 when it is missing or empty).
 * Every kind of file counts, not just `.cmd.py` as in the seed: an old `.stdout` alone must not be
 * overwritten either.
 */
export async function highestStepOnDisk(projectDir: string): Promise<number> {
  let highest = 0;
  try {
    for await (const entry of Deno.readDir(join(projectDir, OUTPUT_DIR))) {
      const m = STEP_NUMBER_PREFIX.exec(entry.name);
      const n = m ? Number(m[1]) : 0;
      if (Number.isSafeInteger(n) && n > highest) highest = n;
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return highest;
}

/**
 * The number for the next step: one more than anything already used, whether recorded in the
 * session (counter, steps, active command) or present on disk, so that no file is ever overwritten,
 * also after `create --force` or a fresh session in an old folder.
 */
export function nextStepNumber(session: Session, highestOnDisk: number): number {
  let n = Math.max(session.step_counter, highestOnDisk, session.active_command?.step ?? 0);
  for (const s of session.steps) n = Math.max(n, s.step);
  return n + 1;
}

/**
 * The absolute (or cwd-relative) path of a project-relative path such as `repl_outputs/003_x.stdout`.
 * Refuses anything that would land outside the project dir: slugs cannot produce such a path, but
 * paths read back from a hand-edited session.json might.
 */
export function projectPath(projectDir: string, rel: string): string {
  const parts = rel.split(/[\\/]+/).filter((p) => p !== "" && p !== ".");
  if (parts.length === 0 || parts.some((p) => p === "..") || /^[\\/]|^[A-Za-z]:/.test(rel)) {
    throw new RangeError(`not a path inside the project dir: ${rel}`);
  }
  return join(projectDir, ...parts);
}
