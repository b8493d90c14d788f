// Text output for people, end to end: the seed's REPL commands honour --text (their default stays JSON),
// lists are aligned tables with headers, and a job run's state reads the same in `job run`, `job status`
// and `job list`.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { type Served, served } from "../helpers/served.ts";
import { permissionFlags } from "../helpers/cli.ts";
import { denoDir, ROOT_DIR } from "../../scripts/flags.ts";
import { shellQuote } from "../../src/shell.ts";

Deno.test("the seed's commands: JSON by default, readable text with --text, the same exit codes", async () => {
  await using s = await served();
  const dir = await Deno.makeTempDir({ dir: s.home, prefix: "text-" });
  const run = (args: string[]) => s.dbxr([...args, "--project-dir", dir]);

  const found = await run(["find-cluster", "--name", "analytics", "--text"]);
  assertEquals(found.code, 0, found.stdout + found.stderr);
  assertMatch(found.stdout, /^CLUSTER ID\s+NAME\s+STATE\s+NEXT\n\S+\s+.*analytics.*\s+RUNNING/);
  const cluster = (await run(["find-cluster", "--name", "analytics"])).json().cluster_id as string;

  const created = await run(["create", "--cluster-id", cluster, "--session-name", "people", "--text"]);
  assertEquals(created.code, 0, created.stdout + created.stderr);
  assertStringIncludes(created.stdout, `session created in ${dir}\n`);
  assertMatch(created.stdout, new RegExp(`\\n  cluster\\s+${cluster}\\n`));

  const ok = await run(["exec", "--command", "print(6 * 7)", "--tag", "answer", "--text"]);
  assertEquals(ok.code, 0, ok.stdout + ok.stderr);
  assertMatch(ok.stdout, /^001_answer: Finished after \d+(\.\d+)?s\n/);
  assertStringIncludes(ok.stdout, `  stdout: ${dir}/repl_outputs/001_answer.stdout (2 bytes)\n`);
  assertStringIncludes(ok.stdout, "--- stdout (preview) ---\n42\n");

  const boom = await run(["exec", "--command", "1/0", "--tag", "boom", "--text"]);
  assertEquals(boom.code, 1, "an Error step still exits 1 in text");
  assertMatch(boom.stdout, /^002_boom: Error after/);
  assertStringIncludes(boom.stdout, "ZeroDivisionError");

  const json = await run(["exec", "--command", "print(1)", "--tag", "plain"]);
  assertEquals(json.json().status, "Finished", "without --text the answer is the seed's JSON");

  const status = await run(["status", "--text"]);
  assertEquals(status.code, 0, status.stdout);
  assertStringIncludes(status.stdout, `session people (active) in ${dir}\n`);
  assertMatch(
    status.stdout,
    /\nLast step:\nSTEP\s+TAG\s+STATUS\s+SECONDS\s+COMMAND FILE\n3\s+plain\s+Finished/,
  );

  const nothing = await run(["cancel", "--text"]);
  assertEquals(nothing.code, 4, "errors keep their exit code; the error itself stays JSON on stdout");
  assertEquals(nothing.json().error, "NothingToCancel");
  assertStringIncludes(nothing.stderr, "Error: No active command to cancel.");

  const destroyed = await run(["destroy", "--text"]);
  assertEquals(destroyed.code, 0, destroyed.stdout);
  assertStringIncludes(destroyed.stdout, `session destroyed in ${dir}: 3 step(s) recorded`);
});

Deno.test("job run, job status and job list say a run's state the same way, in tables", async () => {
  await using s = await served();
  const dir = await Deno.makeTempDir({ dir: s.home, prefix: "jobtext-" });
  await Deno.writeTextFile(`${dir}/hello.py`, "print('hello')\n");
  const cluster = (await s.dbxr(["find-cluster", "--name", "analytics"])).json().cluster_id as string;
  const job = (args: string[]) => s.dbxr(["--project-dir", dir, "job", ...args], { cwd: dir });

  const r = await job(["run", "hello.py", "--cluster-id", cluster, "--text"]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  const runId = /^run (\d+) {2}TERMINATED SUCCESS\n/.exec(r.stdout)?.[1];
  assert(runId, r.stdout);
  assertMatch(r.stdout, /\nTASK\s+RUN ID\s+STATE\s+LOG\s+ERROR\n\S+\s+\d+\s+SUCCESS\s+job_outputs\//);
  // Progress went to stderr (always, for CI logs), ending with the final state.
  assertMatch(r.stderr, new RegExp(`run ${runId}: TERMINATED SUCCESS[^\\n]* \\(\\d+s\\)\\n`));

  const st = await job(["status", runId, "--text"]);
  assertMatch(st.stdout, new RegExp(`^run ${runId}  TERMINATED SUCCESS\\n`));
  assertMatch(st.stdout, /\nTASK\s+RUN ID\s+STATE\s+LOG\s+ERROR\n\S+\s+\d+\s+TERMINATED SUCCESS\s+-/);

  const list = await job(["list", "--text"]);
  assertEquals(list.code, 0, list.stdout);
  assertMatch(list.stdout, /^RUN ID\s+STATE\s+STARTED \(UTC\)\s+NAME\n/);
  assertMatch(
    list.stdout,
    new RegExp(`\\n${runId}\\s+TERMINATED SUCCESS\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+dbxr hello.py`),
  );
  assert(!list.stdout.includes("\t"), "aligned with spaces, not tabs");
});

/** Runs dbxr on a pseudo-terminal (util-linux `script`), as a person at a terminal would; null without it. */
async function onTerminal(s: Served, args: string[], env: Record<string, string> = {}) {
  const probe = await new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" })
    .output().catch(() => null);
  if (!probe?.success) return null;
  const argv = [Deno.execPath(), "run", "--quiet", ...permissionFlags(), `${ROOT_DIR}main.ts`, ...args];
  const out = await new Deno.Command("script", {
    args: ["-qec", `stty cols 200; ${argv.map(shellQuote).join(" ")}`, "/dev/null"],
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      DENO_DIR: denoDir(),
      HOME: s.home,
      DATABRICKS_HOST: s.host,
      DATABRICKS_TOKEN: s.emulator.token,
      TZ: "UTC",
      ...env,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).replace(/\r\n/g, "\n");
}

Deno.test("on a terminal: coloured states, help as wide as the terminal allows; NO_COLOR turns colours off", async (t) => {
  await using s = await served();
  const coloured = await onTerminal(s, ["cluster", "list"]);
  if (coloured === null) {
    t.step({
      name: "util-linux `script` is not installed: no pseudo-terminal to test on",
      ignore: true,
      fn() {},
    });
    return;
  }
  assertStringIncludes(coloured, "\x1b[1mCLUSTER ID\x1b[0m");
  assertStringIncludes(coloured, "\x1b[32mRUNNING\x1b[0m");
  const plain = await onTerminal(s, ["cluster", "list"], { NO_COLOR: "1" });
  assert(plain !== null && !plain.includes("\x1b["), plain ?? "");
  assertMatch(plain!, /^CLUSTER ID\s+NAME\s+STATE/);
  const help = await onTerminal(s, ["job", "run", "--help"]);
  const widths = help!.split("\n").map((l) => l.length);
  assert(
    Math.max(...widths) <= 120 && Math.max(...widths) > 100,
    `help is up to 120 wide: ${Math.max(...widths)}`,
  );
});
