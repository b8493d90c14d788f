// docs/ stays true: its tables are compared with the code they describe, its cross-references and links
// must resolve, and no file of the repository may point at a document that a clone does not have.
// The one exception to "no subprocesses" here: `git ls-files` lists the files to check (a walk of the tree
// stands in when git is not available).

import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "../helpers/assert.ts";
import { EXIT_CODES } from "../../src/errors.ts";
import {
  ACTIVE_KEY_ORDER,
  SESSION_KEY_ORDER,
  SESSION_VERSION,
  STEP_KEY_ORDER,
} from "../../src/session/schema.ts";
import { DEFAULT_PREVIEW, TRUNCATION_MARKER } from "../../src/session/outputs.ts";
import { EVICTION_MESSAGE } from "../../src/repl/eviction.ts";

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), "..", ".."));
const CONTRACT = "docs/contract.md";
const BEHAVIOUR = "docs/databricks-behaviour.md";

const read = (rel: string) => Deno.readTextFileSync(join(ROOT, rel));

/** The rows (cells without the surrounding backticks) of the first Markdown table after `after` in `md`. */
function tableAfter(md: string, after: string): string[][] {
  const at = md.indexOf(after);
  if (at < 0) throw new Error(`no text ${JSON.stringify(after)}`);
  const lines = md.slice(at).split("\n");
  const first = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const l of lines.slice(first)) {
    if (!l.startsWith("|")) break;
    const cells = l.slice(1, -1).split("|").map((c) => c.trim());
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    rows.push(cells.map((c) => c.replace(/^`(.*)`$/, "$1")));
  }
  return rows.slice(1); // without the header
}

Deno.test("docs/contract.md lists every error code with the exit code of src/errors.ts", () => {
  const rows = tableAfter(read(CONTRACT), "Every code and its exit code");
  const documented = Object.fromEntries(rows.map(([code, exit]) => [code, Number(exit)]));
  assertEquals(documented, { ...EXIT_CODES }, "update the table in docs/contract.md section 6");
  assertEquals(rows.length, Object.keys(EXIT_CODES).length, "a code is listed twice");
});

Deno.test("docs/contract.md lists the session.json keys of src/session/schema.ts, in order", () => {
  const md = read(CONTRACT);
  const keys = (after: string) => tableAfter(md, after).map((r) => r[0]);
  const fix = "update the tables in docs/contract.md section 7.1";
  assertEquals(keys("Session keys (checked against"), [...SESSION_KEY_ORDER], fix);
  assertEquals(keys("Step keys (checked against"), [...STEP_KEY_ORDER], fix);
  assertEquals(keys("`active_command` keys (checked against"), [...ACTIVE_KEY_ORDER], fix);
  const version = tableAfter(md, "Session keys (checked against").find((r) => r[0] === "version");
  assert(
    version?.[2].includes(`\`${SESSION_VERSION}\``),
    "the documented session.json version is not the code's",
  );
});

Deno.test("docs/contract.md quotes the constants of the code exactly", () => {
  const md = read(CONTRACT);
  for (const text of [TRUNCATION_MARKER, EVICTION_MESSAGE, `(${DEFAULT_PREVIEW} by default`]) {
    assert(md.includes(text), `${CONTRACT} does not quote ${JSON.stringify(text)}`);
  }
  assert(read(BEHAVIOUR).includes(TRUNCATION_MARKER), `${BEHAVIOUR} does not quote the truncation marker`);
});

/** Every file of the repository that git knows (tracked, or new and not ignored). */
async function repoFiles(): Promise<string[]> {
  try {
    const out = await new Deno.Command("git", {
      args: ["ls-files", "--cached", "--others", "--exclude-standard"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "null",
    }).output();
    if (out.success) {
      const files = new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
      // Deleted in the work tree but still in the index: nothing to read.
      return files.filter((f) => {
        try {
          return Deno.statSync(join(ROOT, f)).isFile;
        } catch {
          return false;
        }
      });
    }
  } catch { /* no git: walk the tree */ }
  const skip = new Set([".git", ".tools", "node_modules", "dist", ".deno-cache"]);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(join(ROOT, dir))) {
      if (skip.has(e.name)) continue;
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory) walk(rel);
      else if (e.isFile) files.push(rel);
    }
  };
  walk("");
  return files;
}

function textOf(rel: string): string | undefined {
  const bytes = Deno.readFileSync(join(ROOT, rel));
  if (bytes.includes(0)) return undefined; // binary
  return new TextDecoder().decode(bytes);
}

// Documents that a clone of the repository does not have. Spelled in pieces so that this file does not
// match itself.
const OUTSIDE = [
  ["..", "/shared"].join(""),
  ["/work", "/shared"].join(""),
  ["design", ".md"].join(""),
  ["databricks-rest", ".md"].join(""),
  ["style", ".md"].join(""),
];
const OLD_REFERENCE = new RegExp(["\\breference ", "(?:§|section )\\d"].join(""), "i");

Deno.test("no file of the repository points at documents outside it", async () => {
  const hits: string[] = [];
  for (const f of await repoFiles()) {
    if (f === "deno.lock") continue;
    const text = textOf(f);
    if (text === undefined) continue;
    text.split("\n").forEach((line, i) => {
      for (const s of OUTSIDE) if (line.includes(s)) hits.push(`${f}:${i + 1}: ${s}`);
      if (OLD_REFERENCE.test(line)) hits.push(`${f}:${i + 1}: ${line.trim()}`);
    });
  }
  assertEquals(hits, [], "point these at docs/contract.md or docs/databricks-behaviour.md instead");
});

/** The section numbers of a document's headings: "## 2. Global flags" → "2", "### 7.3 Atomic" → "7.3". */
function sectionNumbers(md: string): Set<string> {
  const nums = new Set<string>();
  for (const m of md.matchAll(/^#{2,6} (\d+(?:\.\d+)*)\.? /gm)) nums.add(m[1]);
  return nums;
}

Deno.test("every '§N' that points into docs/ names a section that exists", async () => {
  const known: Record<string, Set<string>> = {
    "contract.md": sectionNumbers(read(CONTRACT)),
    "databricks-behaviour.md": sectionNumbers(read(BEHAVIOUR)),
  };
  const bad: string[] = [];
  const check = (f: string, doc: string, num: string) => {
    if (!known[doc].has(num)) bad.push(`${f}: ${doc} §${num}`);
  };
  for (const f of await repoFiles()) {
    const text = f.endsWith(".lock") ? undefined : textOf(f);
    if (text === undefined) continue;
    // "docs/databricks-behaviour.md §4.2, §4.3": every § after a document's name, up to the next name.
    for (
      const m of text.matchAll(/(contract\.md|databricks-behaviour\.md)((?:[^§\n]{0,16}§\d+(?:\.\d+)*)+)/g)
    ) {
      for (const n of m[2].matchAll(/§(\d+(?:\.\d+)*)/g)) check(f, m[1], n[1]);
    }
  }
  // The emulator's manual says that its bare "§N" point into databricks-behaviour.md.
  for (const n of read("src/emulator/README.md").matchAll(/§(\d+(?:\.\d+)*)/g)) {
    check("src/emulator/README.md", "databricks-behaviour.md", n[1]);
  }
  // Inside the documents: "section 7.3" in the contract, "(2.8)" and "§2.3" in the behaviours.
  for (const m of read(CONTRACT).matchAll(/\bsections? (\d+(?:\.\d+)?)/g)) {
    check(CONTRACT, "contract.md", m[1]);
  }
  for (const m of read(BEHAVIOUR).matchAll(/\((\d+\.\d+)\)/g)) {
    check(BEHAVIOUR, "databricks-behaviour.md", m[1]);
  }
  assertEquals(bad, []);
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading.toLowerCase().replace(/`/g, "").replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

Deno.test("relative links in the Markdown documents reach existing files and headings", async () => {
  const bad: string[] = [];
  for (const f of (await repoFiles()).filter((f) => f.endsWith(".md"))) {
    const text = read(f).replace(/```[\s\S]*?```/g, "");
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/i.test(target)) continue; // http(s), mailto
      const [path, anchor] = target.split("#");
      const rel = path === "" ? f : normalize(join(dirname(f), path));
      if (relative(ROOT, join(ROOT, rel)).startsWith("..")) {
        bad.push(`${f}: ${target} leaves the repository`);
        continue;
      }
      let md: string;
      try {
        md = Deno.readTextFileSync(join(ROOT, rel));
      } catch {
        bad.push(`${f}: ${target} does not exist`);
        continue;
      }
      if (anchor && rel.endsWith(".md")) {
        const anchors = new Set([...md.matchAll(/^#{1,6} (.+)$/gm)].map((h) => slug(h[1].trim())));
        if (!anchors.has(anchor)) bad.push(`${f}: ${target} has no such heading`);
      }
    }
  }
  assertEquals(bad, []);
});
