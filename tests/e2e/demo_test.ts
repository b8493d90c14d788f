// scripts/demo.ts prints every command so that it can be pasted into bash: this runs the demo, takes the
// commands it printed (`$ ...` lines and their heredocs), pastes them into bash against a fresh emulator in
// another folder, and expects the same files as the demo made.

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { denoDir, ROOT_DIR } from "../../scripts/flags.ts";
import { served } from "../helpers/served.ts";
import { launched, runBash } from "../helpers/shell_blocks.ts";

/** The commands of a demo transcript, as a bash script; `export` and `cd` are left to the caller. */
export function pastedScript(transcript: string): string {
  const lines = transcript.split("\n");
  const script: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith("$ ")) continue;
    const cmd = lines[i].slice(2).replace(/\s+# .*$/, "");
    if (/^(export|cd) /.test(cmd)) continue;
    script.push(cmd);
    const heredoc = cmd.match(/<<'(\w+)'$/);
    if (heredoc) {
      while (++i < lines.length && lines[i] !== heredoc[1]) script.push(lines[i]);
      script.push(heredoc[1]);
    }
  }
  return script.join("\n") + "\n";
}

function listing(dir: string): string[] {
  const names: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) names.push(...listing(`${dir}/${e.name}`).map((n) => `${e.name}/${n}`));
    else names.push(e.name);
  }
  return names.sort();
}

Deno.test("demo: every printed command pastes into bash and does the same again", async () => {
  const demo = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT_DIR}scripts/demo.ts`],
    env: { NO_COLOR: "1", DENO_DIR: denoDir() },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const transcript = new TextDecoder().decode(demo.stdout);
  assertEquals(demo.code, 0, transcript + new TextDecoder().decode(demo.stderr));
  const project = transcript.match(/^\$ cd (\S+)/m)?.[1];
  assert(project, transcript);
  try {
    const script = pastedScript(transcript);
    assert(script.includes("--command @load_data.py"), "multi-line code goes through a file");
    assert(/--tag 'bad step' --command /.test(script), "values with spaces are quoted");

    // The demo's emulator has the default ids, those of seed 1.
    await using emu = await served({ seed: 1, timeScale: 20 });
    await using sh = await launched();
    // Pasted into an interactive shell, a failing command does not stop the rest: no -e.
    const r = await runBash(`set +e\n${script}`, {
      cwd: sh.work,
      env: sh.env({ DATABRICKS_HOST: emu.host, DATABRICKS_TOKEN: emu.emulator.token }),
    });
    assertEquals(r.code, 0, r.stdout + r.stderr);
    const runs = (dir: string) => listing(dir).map((n) => n.replace(/^\d+\//, "RUN/"));
    assertEquals(listing(`${sh.work}/repl_outputs`), listing(`${project}/repl_outputs`));
    assertEquals(runs(`${sh.work}/job_outputs`), runs(`${project}/job_outputs`));
    assertEquals(
      await Deno.readTextFile(`${sh.work}/repl_outputs/005_ask_the_llm.stdout`),
      await Deno.readTextFile(`${project}/repl_outputs/005_ask_the_llm.stdout`),
    );
  } finally {
    await Deno.remove(project, { recursive: true });
  }
});
