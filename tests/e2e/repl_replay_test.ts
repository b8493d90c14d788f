// `dbxr repl replay|history|gc` end to end: dbxr as a subprocess against the emulator, whose execution
// contexts are real python3 processes.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { type Served, served } from "../helpers/served.ts";

type J = Record<string, unknown>;

async function session(s: Served, name = "t", dir?: string) {
  dir ??= await Deno.makeTempDir({ dir: s.home, prefix: "proj-" });
  const cluster = (await s.dbxr(["find-cluster", "--name", "analytics"])).json().cluster_id as string;
  const r = await s.dbxr(["create", "--cluster-id", cluster, "--session-name", name, "--project-dir", dir]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  const run = (args: string[]) => s.dbxr([...args, "--project-dir", dir]);
  const exec = (code: string, tag: string, more: string[] = []) =>
    run(["exec", "--command", code, "--tag", tag, ...more]);
  const sessionJson = async () => JSON.parse(await Deno.readTextFile(`${dir}/session.json`));
  return { dir, cluster, run, exec, sessionJson };
}

const liveContexts = async (s: Served) =>
  ((await s.control("GET", "contexts")) as { contexts: Array<{ id: string }> }).contexts.map((c) => c.id);

Deno.test("replay after an eviction in a five-step session: the plan, then the state is back", async () => {
  await using s = await served();
  const t = await session(s);
  const sideFile = `${t.dir}/side_effect.txt`;
  assertEquals((await t.exec("import json", "imports")).code, 0);
  assertEquals((await t.exec("x = 41", "define")).code, 0);
  assertEquals((await t.exec("model = x + 'a'", "train")).code, 1);
  assertEquals((await t.exec("model = x * 2", "train")).code, 0);
  const w = await t.exec(`open(${JSON.stringify(sideFile)}, "a").write("row\\n")`, "write", ["--no-replay"]);
  assertEquals(w.code, 0, w.stdout);
  const before = await t.sessionJson();
  assertEquals(before.steps[4].replay, false);

  await s.control("POST", `contexts/${before.context_id}/evict`);
  const evicted = await t.exec("print(x)", "after evict");
  assertEquals(evicted.code, 9, evicted.stdout);
  const e = evicted.json();
  assertEquals(e.status, "ContextEvicted");
  assertEquals(e.previous_steps && (e.previous_steps as J[]).length, 5);
  assertEquals(e.hint, `dbxr repl replay --dry-run --project-dir ${t.dir}`);
  assertEquals((e.tip as J).replay, `dbxr repl replay --project-dir ${t.dir}`);

  const plan = await t.run(["repl", "replay", "--dry-run"]);
  assertEquals(plan.code, 0, plan.stdout);
  const p = plan.json();
  assertEquals(p.status, "planned");
  assertEquals((p.run as J[]).map((r) => [r.step, r.tag]), [[1, "imports"], [2, "define"], [4, "train"]]);
  assertEquals((p.run as J[])[1].command_file, `${t.dir}/repl_outputs/002_define.cmd.py`);
  assertEquals(typeof (p.run as J[])[1].elapsed_seconds, "number");
  assertEquals((p.skipped as J[]).map((r) => [r.step, r.reason]), [
    [3, "failed"],
    [5, "not_replayable"],
    [6, "never_ran"],
  ]);
  assertEquals((p.skipped as J[])[0].superseded_by, 4);
  // The dry run changed nothing.
  assertEquals((await t.sessionJson()).steps.length, 6);

  const r = await t.run(["repl", "replay"]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  const j = r.json();
  assertEquals(j.status, "replayed");
  assertEquals((j.steps as J[]).map((x) => [x.replay_of, x.cmd_id, x.status]), [
    [1, "007_imports", "Finished"],
    [2, "008_define", "Finished"],
    [4, "009_train", "Finished"],
  ]);
  assertEquals((j.steps as J[])[1].stdout_file, `${t.dir}/repl_outputs/008_define.stdout`);
  assertEquals(j.not_run, []);
  // The state is back: x from step 2, model from the retried step 4; the --no-replay step did not run twice.
  const check = await t.exec("print(x, model, json.dumps([1]))", "check");
  assertEquals(check.json().stdout_preview, "41 82 [1]");
  assertEquals(await Deno.readTextFile(sideFile), "row\n");
  const after = await t.sessionJson();
  assertEquals(after.steps.slice(6, 9).map((x: J) => [x.step, x.tag, x.replay_of]), [
    [7, "imports", 1],
    [8, "define", 2],
    [9, "train", 4],
  ]);
  assertEquals(await Deno.readTextFile(`${t.dir}/repl_outputs/008_define.cmd.py`), "x = 41");
  // A second plan leaves the replays out and still plans the originals.
  const again = (await t.run(["repl", "replay", "--dry-run"])).json();
  assertEquals((again.run as J[]).map((x) => x.step), [1, 2, 4, 10]);
  assertEquals((again.skipped as J[]).filter((x) => x.reason === "replay").map((x) => x.replay_of), [
    1,
    2,
    4,
  ]);
});

Deno.test("replay into a context that is gone but not yet noticed: a fresh one first, then the steps", async () => {
  await using s = await served();
  const t = await session(s);
  await t.exec("a = 'kept'", "set a");
  const old = (await t.sessionJson()).context_id;
  await s.control("POST", `contexts/${old}/evict`);
  const r = await t.run(["repl", "replay"]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  const j = r.json();
  assertEquals(j.replaced_context_id, old);
  assert(j.context_id !== old);
  assertEquals((j.steps as J[]).map((x) => [x.cmd_id, x.status]), [["002_set_a", "Finished"]]);
  assertEquals((await t.exec("print(a)", "read a")).json().stdout_preview, "kept");
  assertEquals((await t.sessionJson()).eviction_count, 1);
});

Deno.test("replay stops at the first failing step (its exit code); --skip-failed goes on", async () => {
  await using s = await served();
  const t = await session(s);
  const input = `${t.dir}/input.txt`;
  await Deno.writeTextFile(input, "5");
  await t.exec(`n = int(open(${JSON.stringify(input)}).read())`, "read input");
  await t.exec("m = 7", "set m");
  await Deno.remove(input);
  const r = await t.run(["repl", "replay"]);
  assertEquals(r.code, 1, r.stdout);
  const j = r.json();
  assertEquals(j.status, "Error");
  assertEquals(j.failed_step, { replay_of: 1, cmd_id: "003_read_input" });
  assertEquals((j.steps as J[]).map((x) => x.status), ["Error"]);
  assertEquals((j.not_run as J[]).map((x) => x.step), [2]);
  assertEquals(j.hint, `cat ${t.dir}/repl_outputs/003_read_input.stderr`);
  assertStringIncludes(String((j.steps as J[])[0].stderr_preview), "FileNotFoundError");

  const k = await t.run(["repl", "replay", "--skip-failed", "--to", "2"]);
  assertEquals(k.code, 1, k.stdout);
  const kj = k.json();
  assertEquals((kj.steps as J[]).map((x) => [x.replay_of, x.status]), [[1, "Error"], [2, "Finished"]]);
  assertEquals(kj.not_run, []);
  // The failed replay of the first run (step 3) is a replay: never planned itself.
  assertEquals((kj.skipped as J[]).map((x) => [x.step, x.reason]), [[3, "replay"]]);
});

Deno.test("a replayed step past --timeout: Running (exit 8) with the await tip and where to go on", async () => {
  await using s = await served();
  const t = await session(s);
  await t.exec("import time", "imports");
  await t.exec("time.sleep(3); slow = 1", "slow");
  await t.exec("last = 2", "last");
  const r = await t.run(["repl", "replay", "--timeout", "1"]);
  assertEquals(r.code, 8, r.stdout);
  const j = r.json();
  assertEquals(j.status, "Running");
  assertEquals((j.steps as J[]).map((x) => [x.cmd_id, x.status]), [["004_imports", "Finished"], [
    "005_slow",
    "Running",
  ]]);
  assertEquals((j.not_run as J[]).map((x) => x.step), [3]);
  assertEquals(j.hint, `dbxr await --project-dir ${t.dir}`);
  assertEquals((j.tip as J).then, `dbxr repl replay --from 3 --project-dir ${t.dir}`);
  assertEquals((await t.run(["await", "--timeout", "30"])).code, 0);
  const rest = await t.run(["repl", "replay", "--from", "3"]);
  assertEquals(rest.code, 0, rest.stdout);
  assertEquals((rest.json().steps as J[]).map((x) => [x.replay_of, x.cmd_id]), [[3, "006_last"]]);
  assertEquals((await t.exec("print(slow + last)", "check")).json().stdout_preview, "3");
});

Deno.test("exec --no-replay with --replay-safe is a usage error; --replay-safe is recorded", async () => {
  await using s = await served();
  const t = await session(s);
  const bad = await t.exec("1", "x", ["--no-replay", "--replay-safe"]);
  assertEquals([bad.code, bad.json().error], [2, "InvalidArgument"]);
  assertEquals((await t.exec("1", "safe", ["--replay-safe"])).code, 0);
  assertEquals((await t.exec("1", "plain")).code, 0);
  const steps = (await t.sessionJson()).steps;
  assertEquals([steps[0].replay, "replay" in steps[1]], [true, false]);
});

Deno.test("history: a seed-written session as a table and as JSON, the files untouched", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dbxr-history-" });
  try {
    const seed = await Deno.readTextFile(
      new URL("../unit/fixtures/session/iris_session.json", import.meta.url),
    );
    await Deno.writeTextFile(`${dir}/session.json`, seed);
    await Deno.mkdir(`${dir}/repl_outputs`);
    await Deno.writeTextFile(`${dir}/repl_outputs/001_load_data.cmd.py`, "df = load()");
    await Deno.writeTextFile(`${dir}/repl_outputs/001_load_data.stdout`, "150 rows\n");
    const { runCli } = await import("../helpers/cli.ts");
    const env = { HOME: dir };
    const j = (await runCli(["repl", "history", "--json", "--project-dir", dir], { env })).json();
    assertEquals(j.status, "destroyed");
    assertEquals(j.session_name, "iris-classification");
    const steps = j.steps as J[];
    assertEquals(steps.map((x) => [x.step, x.tag, x.status, x.elapsed_seconds]), [
      [1, "load_data", "Finished", 7.4],
      [2, "preprocess", "Finished", 1],
      [3, "train", "Finished", 3.3],
      [4, "evaluate", "Finished", 0.9],
      [5, "persist_model", "Finished", 2.9],
    ]);
    // The seed did not record sizes: they come from the files, null when there is none.
    assertEquals([steps[0].stdout_bytes, steps[1].stdout_bytes], [9, null]);
    assertEquals(steps[0].stdout_file, `${dir}/repl_outputs/001_load_data.stdout`);
    assertEquals(steps[0].command_file, `${dir}/repl_outputs/001_load_data.cmd.py`);
    const text = await runCli(["repl", "history", "--text", "--project-dir", dir], { env });
    assertEquals(text.code, 0, text.stdout);
    const lines = text.stdout.trimEnd().split("\n");
    assertEquals(lines[0], `session iris-classification (destroyed) in ${dir}: 5 steps`);
    assertEquals(lines[1].split(/\s{2,}/), ["STEP", "TAG", "STATUS", "ELAPSED", "BYTES", "FILE"]);
    assertEquals(lines[2].split(/\s{2,}/), [
      "1",
      "load_data",
      "Finished",
      "7.4s",
      "9",
      `${dir}/repl_outputs/001_load_data.stdout`,
    ]);
    assertEquals(lines[3].split(/\s{2,}/)[4], "-");
    assertEquals(await Deno.readTextFile(`${dir}/session.json`), seed);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assertEquals(names.sort(), ["repl_outputs", "session.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gc destroys exactly the orphaned contexts and leaves the live ones", async () => {
  await using s = await served();
  const missing = await session(s, "missing"); // its folder is deleted
  const destroyed = await session(s, "destroyed"); // marked destroyed, its context left open
  const moved = await session(s, "moved"); // evicted: the session moved to a fresh context
  const live = await session(s, "live");
  const idle = await session(s, "idle");
  const ctxOf = async (t: { sessionJson(): Promise<J> }) => (await t.sessionJson()).context_id as string;
  const ids = {
    missing: await ctxOf(missing),
    destroyed: await ctxOf(destroyed),
    moved: await ctxOf(moved),
    live: await ctxOf(live),
    idle: await ctxOf(idle),
  };
  await Deno.remove(missing.dir, { recursive: true });
  const sj = await destroyed.sessionJson();
  await Deno.writeTextFile(`${destroyed.dir}/session.json`, JSON.stringify({ ...sj, status: "destroyed" }));
  await s.control("POST", `contexts/${ids.moved}/evict`);
  assertEquals((await moved.exec("1", "notice")).code, 9);
  const movedFresh = await ctxOf(moved);
  await live.exec("v = 'still here'", "v");

  const dry = await s.dbxr(["repl", "gc", "--dry-run"]);
  assertEquals(dry.code, 0, dry.stdout + dry.stderr);
  const d = dry.json();
  assertEquals(d.status, "planned");
  const planned = (d.to_destroy as J[]).map((x) => [x.context_id, x.reason, x.context_alive]);
  assertEquals(
    planned.sort(),
    [
      [ids.missing, "session_missing", true],
      [ids.destroyed, "session_destroyed", true],
      [ids.moved, "moved", false],
    ].sort(),
  );
  assertEquals(
    (d.kept as J[]).map((x) => x.context_id).sort(),
    [ids.live, ids.idle, movedFresh].sort(),
  );
  assertEquals((await liveContexts(s)).length, 5, "the dry run destroyed nothing");

  const r = await s.dbxr(["repl", "gc"]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  const j = r.json();
  assertEquals(j.status, "collected");
  const done = Object.fromEntries((j.destroyed as J[]).map((x) => [x.context_id, x.result]));
  assertEquals(done, {
    [ids.missing]: "destroyed",
    [ids.destroyed]: "destroyed",
    [ids.moved]: "already_gone",
  });
  assertEquals(j.registry_entries_removed, 3);
  assertEquals((await liveContexts(s)).sort(), [ids.live, ids.idle, movedFresh].sort());
  const registry = await Deno.readTextFile(`${s.home}/.dbxr/contexts.jsonl`);
  assertEquals(
    registry.trimEnd().split("\n").map((l) => JSON.parse(l).context_id).sort(),
    [ids.live, ids.idle, movedFresh].sort(),
  );
  assertEquals((await live.exec("print(v)", "after gc")).json().stdout_preview, "still here");

  // --idle: sessions idle longer than the threshold go too, on the named cluster only.
  await new Promise((res) => setTimeout(res, 4000));
  await live.exec("1", "busy again");
  const idleRun = await s.dbxr(["repl", "gc", "--idle", "0.001", "--cluster-id", live.cluster]);
  assertEquals(idleRun.code, 0, idleRun.stdout);
  const ij = idleRun.json();
  assertEquals(
    (ij.destroyed as J[]).map((x) => [x.context_id, x.reason]).sort(),
    [[ids.idle, "idle"], [movedFresh, "idle"]].sort(),
  );
  assertEquals(await liveContexts(s), [ids.live]);
  // An idle session's context going away is an eviction like any other: the next exec recovers.
  const back = await idle.exec("print('back')", "back");
  assertEquals(back.code, 9, back.stdout);
  assertEquals(back.json().hint, `dbxr repl replay --dry-run --project-dir ${idle.dir}`);
});
