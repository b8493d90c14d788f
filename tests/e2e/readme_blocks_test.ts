// The README's Quick start and "Against the emulator" blocks, run verbatim with bash in a fresh folder, with
// the `dbxr` launchers on PATH as after `scripts/setup.sh`: a README that stops working fails here.

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { ROOT_DIR } from "../../scripts/flags.ts";
import { served } from "../helpers/served.ts";
import { launched, README, runBash, shellBlockAfter } from "../helpers/shell_blocks.ts";

const readme = await Deno.readTextFile(README);

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** What the repository root holds of a session, so that a test can tell that dbxr wrote nothing there. */
function rootSessionFiles(): string[] {
  return ["session.json", "repl_outputs", ".session.lock", "job_outputs"].filter((f) => exists(ROOT_DIR + f));
}

function assertQuiet(stderr: string) {
  // No `deno task` banner and no Deno download or permission notes: what a user sees is dbxr's.
  for (const line of stderr.split("\n")) {
    assert(!/^Task |^Download |^Warning|^⚠️/.test(line), `unexpected stderr line: ${line}\n${stderr}`);
  }
}

Deno.test("README Quick start runs as written against a profile that points at the emulator", async () => {
  const block = shellBlockAfter(readme, "## Quick start");
  // The block is written for a real workspace; the emulator's seed 1 has a running cluster with its id.
  await using emu = await served({ seed: 1 });
  await using sh = await launched();
  await Deno.writeTextFile(
    `${sh.home}/.databrickscfg`,
    `[DEFAULT]\nhost = http://127.0.0.1:9\n\n[dev]\nhost = ${emu.host}\ntoken = ${emu.emulator.token}\n`,
  );
  const before = rootSessionFiles();
  const r = await runBash(block, { cwd: sh.work, env: sh.env() });
  assertEquals(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assertQuiet(r.stderr);

  const project = `${sh.work}/my-task`;
  assertEquals(
    await Deno.readTextFile(`${project}/repl_outputs/002_train.stdout`),
    "sum of squares below 1000000: 333332833333500000",
  );
  // spark.conf knows the workspace URL (the emulator's host), and `head` found the file (or -e stopped).
  assertEquals(await Deno.readTextFile(`${project}/repl_outputs/001_setup.stdout`), new URL(emu.host).host);
  const session = JSON.parse(await Deno.readTextFile(`${project}/session.json`));
  assertEquals(session.session_name, "my-task");
  assertEquals(session.steps.length, 2);
  assertEquals(rootSessionFiles(), before, "dbxr wrote into the repository");
});

Deno.test("README 'Against the emulator' runs as written: starts dbxr-emulator, uses it, stops it", async () => {
  const block = shellBlockAfter(readme, "### Against the emulator");
  await using sh = await launched();
  // A profile left in the shell must not win over the emulator's env file (it points at nothing).
  await Deno.writeTextFile(`${sh.home}/.databrickscfg`, `[dev]\nhost = http://127.0.0.1:9\ntoken = x\n`);
  const before = rootSessionFiles();
  const r = await runBash(block, { cwd: sh.work, env: sh.env({ DATABRICKS_CONFIG_PROFILE: "dev" }) });
  const project = `${sh.work}/try-dbxr`;
  const log = exists(`${project}/emulator.log`) ? await Deno.readTextFile(`${project}/emulator.log`) : "";
  assertEquals(
    r.code,
    0,
    `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}\nemulator.log:\n${log}`,
  );
  assertQuiet(r.stderr);

  assert(r.stdout.includes("exit 1\n"), r.stdout);
  assertEquals(await Deno.readTextFile(`${project}/repl_outputs/002_boom.stdout`), "before the error");
  assert(/^python 3\.\d+/.test(await Deno.readTextFile(`${project}/repl_outputs/001_hello.stdout`)));
  assert(JSON.parse(log.split("\n")[0]).host.startsWith("http://127.0.0.1:"), log);
  // `kill $!` stopped the emulator, which removes its env file on the way out.
  for (let i = 0; i < 100 && exists(`${project}/emulator.env`); i++) {
    await new Promise((res) => setTimeout(res, 100));
  }
  assert(!exists(`${project}/emulator.env`), "the emulator did not stop (emulator.env is still there)");
  assertEquals(rootSessionFiles(), before, "dbxr wrote into the repository");
});
