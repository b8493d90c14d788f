// The seed's REPL workflow end to end: dbxr as a subprocess (release permission flags) against the
// emulator, whose execution contexts are real python3 processes.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { type Served, served } from "../helpers/served.ts";

type J = Record<string, unknown>;

async function session(s: Served, name = "t", extra: string[] = []) {
  const dir = await Deno.makeTempDir({ dir: s.home, prefix: "proj-" });
  const cluster = (await s.dbxr(["find-cluster", "--name", "analytics"])).json().cluster_id as string;
  const r = await s.dbxr([
    "create",
    "--cluster-id",
    cluster,
    "--session-name",
    name,
    "--project-dir",
    dir,
    ...extra,
  ]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  const run = (args: string[], opts = {}) => s.dbxr([...args, "--project-dir", dir], opts);
  const exec = (code: string, tag: string, more: string[] = []) =>
    run(["exec", "--command", code, "--tag", tag, ...more]);
  const file = (rel: string) => Deno.readTextFile(`${dir}/${rel}`);
  const sessionJson = async () => JSON.parse(await file("session.json"));
  return { dir, cluster, created: r.json(), run, exec, file, sessionJson };
}

Deno.test("create, then fibonacci(10) prints 55: the seed's response and files", async () => {
  await using s = await served();
  const t = await session(s, "fib");
  assertEquals(t.created.status, "created");
  // Paths are shown under the project dir as given, as the seed printed them.
  assertEquals(t.created.session_file, `${t.dir}/session.json`);
  assertEquals(t.created.output_dir, `${t.dir}/repl_outputs`);
  const code = "def fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)\nprint(fib(10))";
  const r = await t.exec(code, "fib");
  assertEquals(r.code, 0, r.stdout + r.stderr);
  const j = r.json();
  assertEquals(j.cmd_id, "001_fib");
  assertEquals(j.status, "Finished");
  assertEquals(j.stdout_file, `${t.dir}/repl_outputs/001_fib.stdout`);
  assertEquals(j.stderr_file, `${t.dir}/repl_outputs/001_fib.stderr`);
  assertEquals(j.stdout_preview, "55");
  assertEquals(j.stdout_bytes, 2);
  assertEquals(typeof j.elapsed_seconds, "number");
  assertEquals(await t.file("repl_outputs/001_fib.cmd.py"), code);
  assertEquals(await t.file("repl_outputs/001_fib.stdout"), "55");
  // Globals persist between steps.
  const again = await t.exec("print(fib(12))", "again");
  assertEquals(again.json().stdout_preview, "144");
  const sj = await t.sessionJson();
  assertEquals(sj.steps.map((x: J) => [x.step, x.tag, x.status, x.command_file]), [
    [1, "fib", "Finished", "./repl_outputs/001_fib.cmd.py"],
    [2, "again", "Finished", "./repl_outputs/002_again.cmd.py"],
  ]);
  assertEquals(sj.active_command, undefined);
});

Deno.test("an error keeps what was printed before it, the traceback goes to .stderr (exit 1)", async () => {
  await using s = await served();
  const t = await session(s);
  const r = await t.exec(
    "print('before the error')\nimport sys; print('to stderr', file=sys.stderr)\n1/0",
    "boom",
  );
  assertEquals(r.code, 1, r.stdout);
  const j = r.json();
  assertEquals(j.status, "Error");
  assertStringIncludes(j.stdout_preview as string, "before the error");
  assertStringIncludes(await t.file("repl_outputs/001_boom.stdout"), "to stderr");
  assertStringIncludes(j.stderr_preview as string, "ZeroDivisionError");
  const stderr = await t.file("repl_outputs/001_boom.stderr");
  assertStringIncludes(stderr, "ZeroDivisionError: division by zero");
  assert(!stderr.includes("\x1b["), "ANSI codes left in .stderr");
});

Deno.test("cancel with nothing running is NothingToCancel (exit 4); await is NothingToAwait", async () => {
  await using s = await served();
  const t = await session(s);
  const c = await t.run(["cancel"]);
  assertEquals([c.code, c.json().status], [4, "NothingToCancel"]);
  const a = await t.run(["await"]);
  assertEquals([a.code, a.json().status], [4, "NothingToAwait"]);
});

Deno.test("--timeout 1 answers Running with a tip; await then records Finished with the files", async () => {
  await using s = await served();
  const t = await session(s);
  const r = await t.exec("import time; time.sleep(2.5); print('slow done')", "slow", ["--timeout", "1"]);
  assertEquals(r.code, 8, r.stdout);
  const j = r.json();
  assertEquals(j.status, "Running");
  assertEquals(j.cmd_id, "001_slow");
  assertMatch(j.message as string, /still running after \d+s client-side timeout/);
  const tip = j.tip as J;
  assertStringIncludes(tip.await as string, "dbxr await");
  assertStringIncludes(tip.cancel as string, "dbxr cancel");
  assert(typeof j.command_id === "string");
  assertEquals(j.stdout_file, undefined);
  // A second exec meanwhile is the SessionBusy error (exit 5), nothing queued behind it.
  const busy = await t.exec("print('queued?')", "busy");
  assertEquals(busy.code, 5, busy.stdout);
  assertEquals(busy.json().error, "SessionBusy");
  const a = await t.run(["await", "--timeout", "30"]);
  assertEquals(a.code, 0, a.stdout);
  assertEquals(a.json().status, "Finished");
  assertEquals(a.json().stdout_preview, "slow done");
  assertEquals(await t.file("repl_outputs/001_slow.stdout"), "slow done");
  assert((a.json().elapsed_seconds as number) >= 2, "elapsed_seconds counts from the step's start");
  // The refused exec left no step and no file behind.
  const sj = await t.sessionJson();
  assertEquals(sj.steps.length, 1);
});

Deno.test("a long command cancelled from another terminal: cancelled, cleared, the next exec works", async () => {
  await using s = await served();
  const t = await session(s);
  const running = t.exec("import time; print('started'); time.sleep(60)", "long", ["--timeout", "120"]);
  await new Promise((r) => setTimeout(r, 1500));
  const c = await t.run(["cancel"]);
  assertEquals(c.code, 0, c.stdout);
  assertEquals(c.json().status, "cancelled");
  assertEquals(c.json().settled, true);
  const r = await running;
  assertEquals(r.json().status, "Cancelled", r.stdout);
  assertEquals((await t.sessionJson()).active_command, undefined);
  const next = await t.exec("print('next')", "next");
  assertEquals([next.code, next.json().stdout_preview], [0, "next"]);
  assertEquals((await t.sessionJson()).steps.map((x: J) => x.status), ["Cancelled", "Finished"]);
});

Deno.test("Ctrl-C (SIGINT to dbxr) cancels the remote command: Cancelled, exit 130, session usable", async () => {
  await using s = await served();
  const t = await session(s);
  const r = await t.run(["exec", "--command", "import time; time.sleep(60)", "--tag", "ctrlc"], {
    onSpawn: (child: Deno.ChildProcess) => setTimeout(() => child.kill("SIGINT"), 1500),
  });
  assertEquals(r.code, 130, r.stdout + r.stderr);
  const j = r.json();
  assertEquals(j.status, "Cancelled");
  assertEquals(j.message, "Command interrupted by user.");
  assertEquals(j.stdout_file, `${t.dir}/repl_outputs/001_ctrlc.stdout`);
  const next = await t.exec("print(2)", "after");
  assertEquals(next.json().stdout_preview, "2");
});

Deno.test("kill -9 during exec, then await finishes and records the step", async () => {
  await using s = await served();
  const t = await session(s);
  const r = await t.run(
    ["exec", "--command", "import time; time.sleep(2); print('survived')", "--tag", "k9"],
    {
      onSpawn: (child: Deno.ChildProcess) => setTimeout(() => child.kill("SIGKILL"), 1000),
    },
  );
  assert(r.code !== 0, "the killed exec should not exit 0");
  assertEquals(await t.file("repl_outputs/001_k9.cmd.py"), "import time; time.sleep(2); print('survived')");
  const a = await t.run(["await", "--timeout", "30"]);
  assertEquals(a.code, 0, a.stdout);
  assertEquals(a.json().stdout_preview, "survived");
});

Deno.test("two concurrent execs: one runs, the other is the SessionBusy error (exit 5)", async () => {
  await using s = await served();
  const t = await session(s);
  const [a, b] = await Promise.all([
    t.exec("import time; time.sleep(2); print('a')", "a"),
    new Promise((r) => setTimeout(r, 700)).then(() => t.exec("print('b')", "b")),
  ]);
  assertEquals(a.code, 0, a.stdout);
  assertEquals(b.code, 5, b.stdout);
  assertEquals(b.json().status, "SessionBusy");
  assert((b.json().tip as J).await, "the SessionBusy error carries a tip");
});

Deno.test("eviction mid-session: ContextEvicted (exit 9) with previous_steps, then a fresh context", async () => {
  await using s = await served();
  const t = await session(s);
  await t.exec("x = 41", "set x");
  await t.exec("print(x + 1)", "use x");
  const sj = await t.sessionJson();
  await s.control("POST", `contexts/${sj.context_id}/evict`);
  const r = await t.exec("print(x)", "after evict");
  assertEquals(r.code, 9, r.stdout);
  const j = r.json();
  assertEquals(j.status, "ContextEvicted");
  assertEquals(j.message, "Execution context was evicted. Fresh context created. Replay needed.");
  assert(j.new_context_id && j.new_context_id !== sj.context_id);
  assertEquals(j.previous_steps, [
    { step: 1, tag: "set x", command_file: `${t.dir}/repl_outputs/001_set_x.cmd.py` },
    { step: 2, tag: "use x", command_file: `${t.dir}/repl_outputs/002_use_x.cmd.py` },
  ]);
  const after = await t.sessionJson();
  assertEquals([after.context_id, after.eviction_count], [j.new_context_id, 1]);
  assertEquals(after.steps.at(-1).status, "ContextEvicted");
  // Replay from the recorded files works on the fresh context.
  await t.exec("@repl_outputs/001_set_x.cmd.py", "replay set x");
  const again = await t.exec("print(x)", "after replay");
  assertEquals(again.json().stdout_preview, "41");
});

Deno.test("a cluster that stops: ClusterNotRunning with the start hint; after a start, a fresh context", async () => {
  await using s = await served({ timeScale: 200 });
  const t = await session(s);
  await t.exec("y = 1", "y");
  await s.control("POST", `clusters/${t.cluster}/state`, { state: "TERMINATED" });
  const r = await t.exec("print(y)", "stopped");
  assertEquals(r.code, 6, r.stdout);
  assertEquals(r.json().error, "ClusterNotRunning");
  assertEquals(r.json().hint, `dbxr cluster start ${t.cluster} --wait`);
  const st = await t.run(["status"]);
  assertEquals(st.json().cluster_state, "TERMINATED");
  const start = await s.dbxr(["cluster", "start", t.cluster, "--wait", "--timeout", "60"]);
  assertEquals(start.code, 0, start.stdout);
  const again = await t.exec("print('back')", "back");
  assertEquals(again.code, 9, again.stdout);
  const ok = await t.exec("print('back')", "back again");
  assertEquals(ok.json().stdout_preview, "back");
});

Deno.test("the context limit (--max-contexts 3): ContextLimitReached (exit 6) with a hint", async () => {
  await using s = await served({ maxContexts: 3 });
  const sessions = [];
  for (let i = 0; i < 3; i++) sessions.push(await session(s, `s${i}`));
  // Keep all three busy so that none can be evicted.
  const busy = sessions.map((t) => t.exec("import time; time.sleep(4)", "busy", ["--timeout", "1"]));
  await Promise.all(busy);
  const dir = await Deno.makeTempDir({ dir: s.home });
  const r = await s.dbxr([
    "create",
    "--cluster-id",
    sessions[0].cluster,
    "--session-name",
    "x",
    "--project-dir",
    dir,
  ]);
  assertEquals(r.code, 6, r.stdout);
  assertEquals(r.json().status, "ContextLimitReached");
  assertEquals(r.json().hint, `dbxr repl gc --cluster-id ${sessions[0].cluster} --dry-run`);
});

Deno.test("large output: the API's truncation marker sets truncated, the file keeps what came", async () => {
  await using s = await served();
  const t = await session(s);
  const r = await t.exec("print('x' * 120000)", "big");
  const j = r.json();
  assertEquals(j.truncated, true);
  assert((j.stdout_bytes as number) < 60_000 && (j.stdout_bytes as number) > 40_000, String(j.stdout_bytes));
  assertStringIncludes(await t.file("repl_outputs/001_big.stdout"), "*** WARNING: max output size exceeded");
});

Deno.test("large output (3 MiB of mixed text, parsed as it arrives, kept as bytes): the file byte for byte", async () => {
  await using s = await served();
  // A cluster that returns up to 20 MB of text, as `spark.databricks.driver.maxReplOutputLength` allows.
  const res = await fetch(`${s.host}/api/2.1/clusters/create`, {
    method: "POST",
    headers: { authorization: `Bearer ${s.emulator.token}`, "content-type": "application/json" },
    body: JSON.stringify({
      cluster_name: "big-output",
      spark_version: "16.4.x-scala2.12",
      node_type_id: "i3.xlarge",
      num_workers: 0,
      spark_conf: { "spark.databricks.driver.maxReplOutputLength": "21000000" },
    }),
  });
  const { cluster_id } = await res.json();
  for (let i = 0; i < 200; i++) {
    const r = await s.dbxr(["cluster", "get", cluster_id]);
    if (r.json().state === "RUNNING") break;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  const dir = await Deno.makeTempDir({ dir: s.home, prefix: "proj-" });
  const created = await s.dbxr([
    "create",
    "--cluster-id",
    cluster_id,
    "--session-name",
    "big",
    "--project-dir",
    dir,
  ]);
  assertEquals(created.code, 0, created.stdout + created.stderr);
  // Every kind of character the JSON answer escapes or carries raw: quotes, backslashes, tabs, NUL, the
  // line separators, 2-, 3- and 4-byte UTF-8 (an astral character is a surrogate pair in JSON escapes).
  const line = 'é€😀 "q" \\ \t \x00 \u2028 x\n';
  const n = Math.floor((3 * 1024 * 1024) / 20);
  // The same text as a Python literal, with escapes (a raw U+2028 in the source would end a line).
  const python = `'é€😀 "q" \\\\ \\t \\x00 \\u2028 x\\n'`;
  const r = await s.dbxr([
    "exec",
    "--command",
    `print(${python} * ${n} + 'END')`,
    "--tag",
    "big",
    "--project-dir",
    dir,
  ]);
  assertEquals(r.code, 0, r.stdout.slice(0, 2000) + r.stderr);
  const j = r.json();
  const text = line.repeat(n) + "END";
  const want = new TextEncoder().encode(text);
  const got = await Deno.readFile(`${dir}/repl_outputs/001_big.stdout`);
  assertEquals(got.length, want.length);
  assert(got.every((b, i) => b === want[i]), "the .stdout file is the printed text, byte for byte");
  assertEquals(j.stdout_bytes, want.length);
  assertEquals(j.truncated, false);
  assertEquals(j.stdout_preview, [...text].slice(0, 200).join("") + "...");
});

Deno.test("non-UTF-8 output, and tags with spaces, slashes and unicode", async () => {
  await using s = await served();
  const t = await session(s);
  const r = await t.exec("import os; os.write(1, b'caf\\xe9 ok\\n')", "load / résumé data");
  assertEquals(r.code, 0, r.stdout);
  const j = r.json();
  assertMatch(j.cmd_id as string, /^001_[A-Za-z0-9_-]+$/);
  assertStringIncludes(j.stdout_preview as string, "ok");
  const sj = await t.sessionJson();
  assertEquals(sj.steps[0].tag, "load / résumé data");
  const names = [...Deno.readDirSync(`${t.dir}/repl_outputs`)].map((e) => e.name);
  assert(names.every((n) => !n.includes("/") && n.startsWith("001_")), names.join());
});

Deno.test("@FILE reads the code; a missing @FILE is FileNotFound (exit 2); - reads stdin", async () => {
  await using s = await served();
  const t = await session(s);
  await Deno.writeTextFile(`${t.dir}/step.py`, "print('from file')");
  const f = await t.exec(`@${t.dir}/step.py`, "file");
  assertEquals(f.json().stdout_preview, "from file");
  const missing = await t.exec("@nope.py", "missing");
  assertEquals([missing.code, missing.json().status], [2, "FileNotFound"]);
  const stdin = await t.run(["exec", "--command", "-", "--tag", "stdin"], { stdin: "print('from stdin')" });
  assertEquals(stdin.json().stdout_preview, "from stdin");
});

Deno.test("sub_llm and sub_llm_batch work through the bootstrap", async () => {
  await using s = await served();
  const t = await session(s);
  const r = await t.exec(
    "print(sub_llm('echo: hello from the cluster'))\nprint(sub_llm_batch(['echo: a', 'echo: b']))",
    "llm",
  );
  assertEquals(r.code, 0, r.stdout);
  assertEquals(await t.file("repl_outputs/001_llm.stdout"), "hello from the cluster\n['a', 'b']");
});

Deno.test("a corrupt session.json is moved aside and reported as SessionCorrupt (exit 5)", async () => {
  await using s = await served();
  const t = await session(s);
  await Deno.writeTextFile(`${t.dir}/session.json`, "{ not json");
  const r = await t.exec("print(1)", "x");
  assertEquals([r.code, r.json().status], [5, "SessionCorrupt"]);
  const names = [...Deno.readDirSync(t.dir)].map((e) => e.name);
  assert(names.some((n) => n.startsWith("session.json.corrupt-")), names.join());
});

Deno.test("a session.json written by the seed's tool is read, used and migrated", async () => {
  await using s = await served();
  const t = await session(s);
  const mine = await t.sessionJson();
  const seed = {
    status: "active",
    cluster_id: mine.cluster_id,
    context_id: mine.context_id,
    session_name: "seeded",
    step_counter: 1,
    created_at: "2026-02-22T02:00:02.881510+00:00",
    profile: null,
    steps: [{
      step: 1,
      tag: "load_data",
      session_name: "seeded",
      status: "Finished",
      command_file: "./repl_outputs/001_load_data.cmd.py",
      started_at: "2026-02-22T02:00:13.399501+00:00",
      finished_at: "2026-02-22T02:00:20.827932+00:00",
      elapsed_seconds: 7.4,
    }],
  };
  await Deno.writeTextFile(`${t.dir}/session.json`, JSON.stringify(seed, null, 2));
  const r = await t.exec("print('migrated')", "next");
  assertEquals(r.code, 0, r.stdout);
  assertEquals(r.json().cmd_id, "002_next");
  const sj = await t.sessionJson();
  assertEquals(sj.version, 1);
  assertEquals(sj.host, s.host);
  assertEquals(sj.steps.length, 2);
});

Deno.test("status, destroy (files kept), destroy again is NoSession, create --force keeps the old file", async () => {
  await using s = await served();
  const t = await session(s);
  await t.exec("print(1)", "one");
  const st = (await t.run(["status"])).json();
  assertEquals([st.status, st.cluster_state, st.context_alive, st.steps], ["active", "RUNNING", true, 1]);
  const again = await s.dbxr([
    "create",
    "--cluster-id",
    t.cluster,
    "--session-name",
    "b",
    "--project-dir",
    t.dir,
  ]);
  assertEquals([again.code, again.json().status], [5, "SessionExists"]);
  const d = await t.run(["destroy"]);
  assertEquals(d.json(), {
    status: "destroyed",
    steps_completed: 1,
    session_file: `${t.dir}/session.json`,
    project_dir: t.dir,
  });
  assertEquals(await t.file("repl_outputs/001_one.stdout"), "1");
  const d2 = await t.run(["destroy"]);
  assertEquals([d2.code, d2.json().status], [4, "NoSession"]);
  const e = await t.exec("print(1)", "dead");
  assertEquals([e.code, e.json().status], [4, "NoSession"]);
  const fresh = await s.dbxr([
    "create",
    "--cluster-id",
    t.cluster,
    "--session-name",
    "c",
    "--project-dir",
    t.dir,
  ]);
  assertEquals(fresh.code, 0, fresh.stdout);
  assert(typeof fresh.json().previous_session_file === "string");
  const n = await t.exec("print('numbering continues')", "cont");
  assertEquals(n.json().cmd_id, "002_cont");
});

Deno.test("SQL sessions return tables: .result.json plus a TSV .stdout", async () => {
  await using s = await served();
  const t = await session(s, "sql", ["--language", "sql"]);
  const r = await t.exec("SELECT 1 AS one, 'a' AS letter", "q");
  assertEquals(r.code, 0, r.stdout);
  const j = r.json();
  assertEquals(j.result_type, "table");
  assertEquals(j.result_file, `${t.dir}/repl_outputs/001_q.result.json`);
  assertEquals(await t.file("repl_outputs/001_q.stdout"), "one\tletter\n1\ta\n");
  assert(JSON.parse(await t.file("repl_outputs/001_q.result.json")).data.length === 1);
});

Deno.test("create on a stopped cluster is ClusterNotRunning with the start command as hint", async () => {
  await using s = await served();
  const id = (await s.dbxr(["find-cluster", "--name", "dbxr-dev"])).json().cluster_id as string;
  const dir = await Deno.makeTempDir({ dir: s.home });
  const r = await s.dbxr(["create", "--cluster-id", id, "--session-name", "x", "--project-dir", dir]);
  assertEquals(r.code, 6);
  assertEquals(r.json().hint, `dbxr cluster start ${id} --wait`);
  const none = await s.dbxr(["exec", "--command", "1", "--tag", "x", "--project-dir", dir]);
  assertEquals([none.code, none.json().status], [4, "NoSession"]);
});

Deno.test("eviction found while settling a stale command: the new code is recorded, not run on the fresh context", async () => {
  await using s = await served();
  const t = await session(s);
  await t.exec("z = 1", "set z");
  const r = await t.exec("import time; time.sleep(30)", "long", ["--timeout", "1"]);
  assertEquals(r.code, 8, r.stdout);
  await s.control("POST", `contexts/${(await t.sessionJson()).context_id}/evict`);
  const e = await t.exec("print(z)", "needs z");
  assertEquals(e.code, 9, e.stdout);
  assertEquals(e.json().previous_steps, [{
    step: 1,
    tag: "set z",
    command_file: `${t.dir}/repl_outputs/001_set_z.cmd.py`,
  }]);
  const sj = await t.sessionJson();
  assertEquals(sj.steps.map((x: J) => [x.tag, x.status]), [
    ["set z", "Finished"],
    ["long", "ContextEvicted"],
    ["needs z", "ContextEvicted"],
  ]);
  assertEquals(await t.file("repl_outputs/003_needs_z.cmd.py"), "print(z)");
  assertStringIncludes(await t.file("repl_outputs/002_long.stderr"), "ContextEvicted");
  assertEquals(sj.active_command, undefined);
});

Deno.test("seed compatibility: the session's profile is used when none is named; paths start with a relative --project-dir", async () => {
  await using s = await served();
  await Deno.writeTextFile(
    `${s.home}/.databrickscfg`,
    `[emu]\nhost = ${s.host}\ntoken = ${s.emulator.token}\n`,
  );
  const env = { DATABRICKS_HOST: "", DATABRICKS_TOKEN: "" };
  const cluster = (await s.dbxr(["find-cluster", "--name", "analytics", "--profile", "emu"], { env })).json()
    .cluster_id as string;
  const run = (args: string[]) => s.dbxr([...args, "--project-dir", "tasks/p1"], { env, cwd: s.home });
  const c = await run(["create", "--cluster-id", cluster, "--session-name", "p", "--profile", "emu"]);
  assertEquals(c.code, 0, c.stdout);
  assertEquals(c.json().session_file, "tasks/p1/session.json");
  const e = await run(["exec", "--command", "print('no profile flag')", "--tag", "load_data"]);
  assertEquals(e.code, 0, e.stdout);
  assertEquals(e.json().stdout_file, "tasks/p1/repl_outputs/001_load_data.stdout");
  assertEquals(await Deno.readTextFile(`${s.home}/${e.json().stdout_file}`), "no profile flag");
  assertEquals((await run(["destroy"])).code, 0);
});

Deno.test("cancel of a command that had already finished keeps its real status", async () => {
  await using s = await served();
  const t = await session(s);
  const r = await t.exec("import time; time.sleep(1.5); print('completed fine')", "quick", [
    "--timeout",
    "0.5",
  ]);
  assertEquals(r.code, 8, r.stdout);
  await new Promise((res) => setTimeout(res, 2500));
  const c = await t.run(["cancel"]);
  assertEquals([c.code, c.json().status, c.json().step_status], [0, "cancelled", "Finished"]);
  assertEquals((await t.sessionJson()).steps[0].status, "Finished");
  assertEquals(await t.file("repl_outputs/001_quick.stdout"), "completed fine");
});

Deno.test("create --force while an exec waits: the waiting exec stops, the new session is left as created", async () => {
  await using s = await served();
  const t = await session(s);
  const waiting = t.exec("import time; time.sleep(8)", "old", ["--timeout", "60"]);
  await new Promise((r) => setTimeout(r, 1500));
  const fresh = await s.dbxr([
    "create",
    "--cluster-id",
    t.cluster,
    "--session-name",
    "new",
    "--project-dir",
    t.dir,
    "--force",
  ]);
  assertEquals(fresh.code, 0, fresh.stdout);
  const old = await waiting;
  assertEquals(old.code, 9, old.stdout);
  const sj = await t.sessionJson();
  assertEquals([sj.session_name, sj.context_id, sj.eviction_count], ["new", fresh.json().context_id, 0]);
  const next = await t.exec("print('fresh')", "fresh");
  assertEquals(next.json().stdout_preview, "fresh");
});
