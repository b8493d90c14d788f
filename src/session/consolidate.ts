// `dbxr repl consolidate`, the pure part: a session's steps (their code and how they ended) → one Python
// script in the format of the seed's companion skill (databricks-repl-consolidate), done mechanically and
// without changing what the code does:
//   - per tag, the last successful attempt (retries after an error leave only the attempt that worked);
//   - `%pip install` lines become `# Requires:`; other notebook magics, which are not Python, become
//     comments (and a note), `%sql`/`%%sql` become spark.sql() calls;
//   - top-level imports are hoisted to one deduplicated block, in order of first appearance, unless an
//     earlier step changed where imports come from (sys.path, os.chdir, site.addsitedir): from there on
//     imports stay where they were, because hoisting them would change what they import;
//   - sub_llm / sub_llm_batch calls stay, and the REPL bootstrap that defines them comes along.
// The I/O (reading session.json and the .cmd files, writing the script) is in src/repl/consolidate.ts.

import { type Token, tokenize } from "../jobs/pytokens.ts";

export interface StepSource {
  step: number;
  tag: string;
  status: string;
  language: "python" | "sql" | "scala";
  /** The code of the step's command file; undefined when the file is missing. */
  code: string | undefined;
}

export interface ConsolidateInput {
  sessionName: string;
  /** The session file as it is shown in the docstring (`Source:`). */
  source: string;
  steps: StepSource[];
  /** Also keep tags whose every attempt failed (their last attempt), marked as such. */
  includeFailed?: boolean;
  /** Python that defines sub_llm and sub_llm_batch (the REPL bootstrap), added when the code calls them. */
  helpers?: string;
}

export interface KeptStep {
  /** The section number in the script (1, 2, …); null when nothing but imports and %pip was left. */
  section: number | null;
  step: number;
  tag: string;
  status: string;
}

export interface SkippedStep {
  step: number;
  tag: string;
  status: string;
  reason: "failed" | "retried" | "missing_file" | "not_python";
}

export interface Consolidated {
  text: string;
  kept: KeptStep[];
  skipped: SkippedStep[];
  attempted: number;
  requires: string[];
  imports: string[];
  usesSubLlm: boolean;
  notes: string[];
}

const SUCCESS = "Finished";

/** Names whose use changes what a later `import` finds. */
const IMPORT_BARRIERS = new Set([
  "sys.path.insert",
  "sys.path.append",
  "sys.path.extend",
  "sys.path.remove",
  "sys.path.clear",
  "sys.path",
  "os.chdir",
  "site.addsitedir",
  "importlib.reload",
]);

/** pip flags that take a value (the value is not a package). */
const PIP_VALUE_FLAGS = new Set([
  "-r",
  "--requirement",
  "-c",
  "--constraint",
  "-i",
  "--index-url",
  "--extra-index-url",
  "-f",
  "--find-links",
  "-t",
  "--target",
  "--trusted-host",
  "--cache-dir",
]);

export function consolidate(input: ConsolidateInput): Consolidated {
  const notes: string[] = [];
  const { kept, skipped } = chooseSteps(input.steps, input.includeFailed ?? false);
  const requires: string[] = [];
  const imports: string[] = [];
  const importKeys = new Set<string>();
  let futureImports: string[] = [];
  let barrier = false;
  let usesSubLlm = false;
  const bodies: Array<{ step: StepSource; body: string }> = [];

  for (const step of kept) {
    if (step.language === "scala") {
      skipped.push({ step: step.step, tag: step.tag, status: step.status, reason: "not_python" });
      notes.push(`step ${step.step} (${step.tag}) is Scala: left out of the Python script`);
      continue;
    }
    const code = step.code!;
    if (step.language === "sql") {
      bodies.push({ step, body: sqlCall(code) });
      continue;
    }
    const r = transformPython(code, step, { barrier });
    barrier = r.barrier;
    usesSubLlm ||= r.usesSubLlm;
    for (const p of r.requires) if (!requires.includes(p)) requires.push(p);
    for (const imp of r.hoisted) {
      const key = imp.replace(/\s+/g, " ").trim();
      if (importKeys.has(key)) continue;
      importKeys.add(key);
      if (/^from\s+__future__\s+import\b/.test(key)) futureImports = [...futureImports, imp];
      else imports.push(imp);
    }
    notes.push(...r.notes);
    bodies.push({ step, body: r.body });
  }

  const allImports = [...futureImports, ...imports];
  const keptSteps: KeptStep[] = [];
  const sections: string[] = [];
  let section = 0;
  for (const { step, body } of bodies) {
    const trimmed = trimBlankLines(body);
    if (trimmed === "") {
      keptSteps.push({ section: null, step: step.step, tag: step.tag, status: step.status });
      continue;
    }
    section++;
    keptSteps.push({ section, step: step.step, tag: step.tag, status: step.status });
    const failed = step.status === SUCCESS ? "" : ` (${step.status} in the session)`;
    sections.push(`# --- Step ${section}: ${oneLine(step.tag)}${failed} ---\n${trimmed}\n`);
  }

  const successful = keptSteps.filter((k) => k.status === SUCCESS).length;
  const lines: string[] = [
    '"""',
    `Consolidated from session: ${docText(input.sessionName)}`,
    `Source: ${docText(input.source)}`,
    `Steps: ${successful} (of ${input.steps.length} attempted)`,
    '"""',
    "",
    "# --- Dependencies ---",
    `# Requires: ${requires.length ? requires.join(", ") : "(none)"}`,
    "",
    "# --- Imports ---",
    ...(allImports.length ? allImports : ["# (none)"]),
    "",
  ];
  if (usesSubLlm && input.helpers) {
    lines.push(
      "# --- dbxr helpers: sub_llm, sub_llm_batch (the REPL bootstrap, as it ran in the session) ---",
      input.helpers.trimEnd(),
      "",
    );
  } else if (usesSubLlm) {
    notes.push("the code calls sub_llm/sub_llm_batch, but no helper source was given");
  }
  const text = `${lines.join("\n")}\n${sections.join("\n")}`;
  return {
    text,
    kept: keptSteps,
    skipped: skipped.sort((a, b) => a.step - b.step),
    attempted: input.steps.length,
    requires,
    imports: allImports,
    usesSubLlm,
    notes,
  };
}

/** Per tag the last successful attempt (or, with includeFailed, the last attempt), in step order. */
function chooseSteps(steps: StepSource[], includeFailed: boolean) {
  const ordered = [...steps].sort((a, b) => a.step - b.step);
  const byTag = new Map<string, StepSource[]>();
  for (const s of ordered) byTag.set(s.tag, [...(byTag.get(s.tag) ?? []), s]);
  const chosen = new Set<StepSource>();
  for (const attempts of byTag.values()) {
    const withCode = attempts.filter((a) => a.code !== undefined);
    const ok = withCode.filter((a) => a.status === SUCCESS);
    const pick = ok.at(-1) ?? (includeFailed ? withCode.at(-1) : undefined);
    if (pick) chosen.add(pick);
  }
  const kept = ordered.filter((s) => chosen.has(s));
  const skipped: SkippedStep[] = ordered.filter((s) => !chosen.has(s)).map((s) => ({
    step: s.step,
    tag: s.tag,
    status: s.status,
    reason: s.code === undefined
      ? "missing_file"
      : byTag.get(s.tag)!.some((a) => chosen.has(a))
      ? "retried"
      : "failed",
  }));
  return { kept, skipped };
}

interface PythonResult {
  body: string;
  hoisted: string[];
  requires: string[];
  notes: string[];
  barrier: boolean;
  usesSubLlm: boolean;
}

interface LogicalLine {
  /** Offsets of the whole physical lines that hold it, the final "\n" included. */
  from: number;
  to: number;
  tokens: Token[];
}

function transformPython(code: string, step: StepSource, state: { barrier: boolean }): PythonResult {
  const notes: string[] = [];
  const requires: string[] = [];
  const hoisted: string[] = [];
  let barrier = state.barrier;
  const label = `step ${step.step} (${step.tag})`;

  // A cell magic makes the whole cell another language.
  const firstLine = code.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
  if (firstLine.startsWith("%%")) {
    const [magic] = firstLine.slice(2).split(/\s+/);
    const rest = code.slice(code.indexOf(firstLine) + firstLine.length + 1);
    if (magic === "sql") {
      return { body: sqlCall(rest), hoisted, requires, notes, barrier, usesSubLlm: false };
    }
    notes.push(`${label} is a %%${magic} cell, not Python: kept as comments`);
    return { body: commentOut(code), hoisted, requires, notes, barrier, usesSubLlm: false };
  }

  const tokens = tokenize(code);
  const usesSubLlm = tokens.some((t) => t.kind === "name" && /^sub_llm(_batch)?$/.test(t.parts?.[0] ?? ""));
  const edits: Array<{ from: number; to: number; text: string }> = [];
  for (const line of logicalLines(code, tokens)) {
    const first = line.tokens[0];
    if (first.kind === "magic") {
      const magic = first.text.trim();
      const pip = pipPackages(magic);
      if (pip) {
        requires.push(...pip);
        edits.push({ from: line.from, to: line.to, text: "" });
      } else if (/^%sql\s/.test(magic)) {
        edits.push({ from: line.from, to: line.to, text: sqlCall(magic.slice(4).trim()) });
      } else {
        notes.push(`${label}: \`${oneLine(magic)}\` is not Python: kept as a comment`);
        edits.push({ from: line.from, to: line.to, text: commentOut(code.slice(line.from, line.to)) });
      }
      continue;
    }
    const names = line.tokens.filter((t) => t.kind === "name").map((t) => t.text);
    const isImport = first.kind === "name" && (first.text === "import" || first.text === "from") &&
      first.column === 1;
    const compound = line.tokens.some((t) => t.kind === "op" && t.text === ";");
    if (isImport && !compound) {
      const text = code.slice(first.start, line.tokens.at(-1)!.end);
      const future = /^from\s+__future__\s+import\b/.test(text);
      if (!barrier || future) {
        hoisted.push(text);
        edits.push({ from: line.from, to: line.to, text: "" });
        continue;
      }
    }
    if (
      names.some((n) => IMPORT_BARRIERS.has(n) || [...IMPORT_BARRIERS].some((b) => n.startsWith(`${b}.`)))
    ) {
      if (!barrier) {
        notes.push(
          `${label} changes where imports come from (sys.path/os.chdir): imports from there on stay in place`,
        );
      }
      barrier = true;
    }
  }
  return { body: applyEdits(code, edits), hoisted, requires, notes, barrier, usesSubLlm };
}

/** The logical lines of the code, each with the whole physical lines it covers. */
function logicalLines(code: string, tokens: Token[]): LogicalLine[] {
  const out: LogicalLine[] = [];
  let current: Token[] = [];
  const close = (endOffset: number) => {
    const code0 = current.filter((t) => t.kind !== "comment");
    if (code0.length) {
      const from = code.lastIndexOf("\n", code0[0].start - 1) + 1;
      const nl = code.indexOf("\n", Math.max(endOffset - 1, code0.at(-1)!.end));
      out.push({ from, to: nl === -1 ? code.length : nl + 1, tokens: code0 });
    }
    current = [];
  };
  for (const t of tokens) {
    if (t.kind === "newline") {
      close(t.end);
      continue;
    }
    if (t.kind === "magic") {
      close(t.start);
      current = [t];
      close(t.end);
      continue;
    }
    current.push(t);
  }
  close(code.length);
  return out;
}

function applyEdits(code: string, edits: Array<{ from: number; to: number; text: string }>): string {
  let out = "";
  let at = 0;
  for (const e of [...edits].sort((a, b) => a.from - b.from)) {
    if (e.from < at) continue;
    out += code.slice(at, e.from) + e.text;
    at = e.to;
  }
  return out + code.slice(at);
}

/** The packages of a `%pip install …` / `!pip install …` line; undefined for any other magic. */
export function pipPackages(magic: string): string[] | undefined {
  const words = magic.replace(/\\\n/g, " ").replace(/^[%!]/, "").trim().split(/\s+/);
  let i = 0;
  if (words[i] === "python" || words[i] === "python3") {
    if (words[i + 1] !== "-m") return undefined;
    i += 2;
  }
  if (!["pip", "pip3"].includes(words[i]) || words[i + 1] !== "install") return undefined;
  const out: string[] = [];
  for (let k = i + 2; k < words.length; k++) {
    const w = words[k];
    if (PIP_VALUE_FLAGS.has(w)) {
      if (w === "-r" || w === "--requirement") out.push(`-r ${words[k + 1] ?? ""}`.trim());
      k++;
    } else if (!w.startsWith("-")) {
      out.push(w.replace(/^["']|["']$/g, ""));
    }
  }
  return out;
}

/** SQL as a spark.sql() call; a JSON string literal is a valid Python string literal. */
function sqlCall(sql: string): string {
  const text = sql.trim().replace(/;\s*$/, "");
  return `spark.sql(${JSON.stringify(text)})\n`;
}

function commentOut(text: string): string {
  return text.replace(/\n$/, "").split("\n").map((l) => `# ${l}`).join("\n") + "\n";
}

function trimBlankLines(body: string): string {
  const lines = body.split("\n");
  while (lines.length && lines[0].trim() === "") lines.shift();
  while (lines.length && lines.at(-1)!.trim() === "") lines.pop();
  return lines.join("\n");
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/** Text that goes inside the triple-quoted docstring. */
function docText(s: string): string {
  return oneLine(s).replace(/\\/g, "\\\\").replace(/"""/g, '\\"\\"\\"');
}
