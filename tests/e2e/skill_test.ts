// `dbxr skill install`, run as the release binary runs (the scoped flags), writes skills/dbxr/ of this
// repository byte for byte: the skill comes from inside the binary, never from the source tree.

import { join } from "node:path";
import { ROOT_DIR } from "../../scripts/flags.ts";
import { assertEquals } from "../helpers/assert.ts";
import { runCli } from "../helpers/cli.ts";

async function tree(dir: string, rel = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(join(dir, rel))) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) Object.assign(out, await tree(dir, p));
    else out[p] = await Deno.readTextFile(join(dir, p));
  }
  return out;
}

Deno.test("skill install writes exactly skills/dbxr/, then leaves it alone, then keeps a changed file", async () => {
  const home = await Deno.makeTempDir({ prefix: "dbxr-skill-" });
  try {
    const project = join(home, "project");
    const r = await runCli(["skill", "install", "--project-dir", project], { env: { HOME: home } });
    assertEquals(r.code, 0, r.stdout + r.stderr);
    const installed = join(project, ".claude/skills/dbxr");
    assertEquals(r.json().skill_dir, installed);
    assertEquals(await tree(installed), await tree(join(ROOT_DIR, "skills/dbxr")));

    const again = await runCli(["skill", "install"], { env: { HOME: home }, cwd: project });
    assertEquals(again.code, 0, again.stdout);
    assertEquals(again.json().written, []);

    await Deno.writeTextFile(join(installed, "reference/errors.md"), "mine\n");
    const kept = await runCli(["skill", "install"], { env: { HOME: home }, cwd: project });
    assertEquals(kept.code, 5, kept.stdout);
    const report = kept.json<{ status: string; skipped: Array<{ path: string }>; hint: string }>();
    assertEquals(report.status, "partial");
    assertEquals(report.skipped.map((s) => s.path), [".claude/skills/dbxr/reference/errors.md"]);
    assertEquals(report.hint, "dbxr skill install --force");
    assertEquals(await Deno.readTextFile(join(installed, "reference/errors.md")), "mine\n");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
