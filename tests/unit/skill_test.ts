// The skill the binary carries (src/skill/files.ts) is skills/dbxr/ exactly, and `skill install` writes it
// without ever replacing a file the user changed (unless --force).

import { SKILL_MODULE, skillModule, skillSourceFiles } from "../../scripts/gen_assets.ts";
import { SKILL_FILES } from "../../src/skill/files.ts";
import { installSkill, planFile } from "../../src/skill/install.ts";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { fakeCtx } from "../helpers/fake_ctx.ts";

Deno.test("src/skill/files.ts is generated from skills/dbxr/ and not stale", async () => {
  const sources = await skillSourceFiles();
  assertEquals(await Deno.readTextFile(SKILL_MODULE), skillModule(sources), "run deno task gen:assets");
  assertEquals(Object.keys(SKILL_FILES), sources.map((f) => f.path));
  for (const f of sources) assertEquals(SKILL_FILES[f.path], f.content, f.path);
});

Deno.test("SKILL.md has the skills front matter: name dbxr and a description with its triggers", () => {
  const text = SKILL_FILES["SKILL.md"];
  const m = /^---\nname: (\S+)\ndescription: "([^"\n]+)"\n---\n/.exec(text);
  assert(m, "front matter with name and description first");
  assertEquals(m[1], "dbxr");
  assert(m[2].length <= 1024, `description is ${m[2].length} characters; the skills format allows 1024`);
  for (const trigger of ["Databricks", "sub_llm", "evicted", "job"]) assertStringIncludes(m[2], trigger);
  // Every reference file SKILL.md links to is carried.
  for (const link of text.matchAll(/\]\((reference\/[^)]+)\)/g)) assert(link[1] in SKILL_FILES, link[1]);
});

Deno.test("planFile: identical is unchanged, missing is written, changed is kept unless forced", () => {
  assertEquals(planFile("a", "a", false), "unchanged");
  assertEquals(planFile(undefined, "a", false), "write");
  assertEquals(planFile("b", "a", false), "skip");
  assertEquals(planFile("b", "a", true), "write");
  assertEquals(planFile("a", "a", true), "unchanged");
});

Deno.test("installSkill writes under <project-dir>/<dir>/dbxr and keeps a changed file without --force", async () => {
  const f = fakeCtx();
  const first = await installSkill(f.ctx, { dir: ".claude/skills", projectDir: "proj", force: false });
  assertEquals(first.exitCode, 0);
  assertEquals(first.report.status, "installed");
  assertEquals(first.report.skill_dir, "proj/.claude/skills/dbxr");
  assertEquals(first.report.written, Object.keys(SKILL_FILES).map((p) => `proj/.claude/skills/dbxr/${p}`));
  for (const [p, content] of Object.entries(SKILL_FILES)) {
    assertEquals(f.files[`proj/.claude/skills/dbxr/${p}`], content);
  }

  f.files["proj/.claude/skills/dbxr/SKILL.md"] += "\nmy own notes\n";
  const second = await installSkill(f.ctx, { dir: ".claude/skills", projectDir: "proj", force: false });
  assertEquals(second.exitCode, 5);
  assertEquals(second.report.status, "partial");
  assertEquals(second.report.written, []);
  assertEquals(second.report.skipped.map((s) => s.path), ["proj/.claude/skills/dbxr/SKILL.md"]);
  assertEquals(second.report.unchanged.length, Object.keys(SKILL_FILES).length - 1);
  assertEquals(second.report.hint, "dbxr skill install --force --project-dir proj");
  assertStringIncludes(f.files["proj/.claude/skills/dbxr/SKILL.md"], "my own notes");

  const forced = await installSkill(f.ctx, { dir: ".claude/skills", projectDir: "proj", force: true });
  assertEquals(forced.exitCode, 0);
  assertEquals(forced.report.written, ["proj/.claude/skills/dbxr/SKILL.md"]);
  assertEquals(f.files["proj/.claude/skills/dbxr/SKILL.md"], SKILL_FILES["SKILL.md"]);
});

Deno.test("installSkill: an absolute --dir ignores the project dir", async () => {
  const f = fakeCtx();
  const r = await installSkill(f.ctx, { dir: "/home/u/.claude/skills", projectDir: "proj", force: false });
  assertEquals(r.report.skill_dir, "/home/u/.claude/skills/dbxr");
  assert(f.writes.every((w) => w.path.startsWith("/home/u/.claude/skills/dbxr/")));
});
