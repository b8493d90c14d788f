// The REPL's promises under races, faults and stubborn code (issue 9 §1 defects 1, 2, 4, 5; issue 10 §5):
// dbxr as a subprocess against the emulator, whose fault control slows the routes that the races need.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { type Served, served } from "../helpers/served.ts";

type J = Record<string, unknown>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function project(s: Served) {
  const dir = await Deno.makeTempDir({ dir: s.home, prefix: "proj-" });
  const cluster = (await s.dbxr(["find-cluster", "--name", "analytics"])).json().cluster_id as string;
  const create = (name: string, more: string[] = []) =>
    s.dbxr(["create", "--cluster-id", cluster, "--session-name", name, "--project-dir", dir, ...more]);
  const run = (args: string[], opts = {}) => s.dbxr([...args, "--project-dir", dir], opts);
  const exec = (code: string, tag: string, more: string[] = [], opts = {}) =>
    run(["exec", "--command", code, "--tag", tag, ...more], opts);
  const file = (rel: string) => Deno.readTextFile(`${dir}/${rel}`);
  const exists = (rel: string) => Deno.lstat(`${dir}/${rel}`).then(() => true, () => false);
  const sessionJson = async () => JSON.parse(await file("session.json"));
  return { dir, cluster, create, run, exec, file, exists, sessionJson };
}

/** Waits until session.json shows the active command in `state` (a loaded machine starts dbxr slowly). */
async function activeIn(t: { sessionJson(): Promise<J> }, state: "submitting" | "submitted") {
  for (let i = 0; i < 300; i++) {
    const sj = await t.sessionJson().catch(() => undefined);
    if ((sj?.active_command as J | undefined)?.state === state) return;
    await sleep(50);
  }
  throw new Error(`no active command in state ${state}`);
}

async function liveContexts(s: Served): Promise<string[]> {
  const snap = await s.control("GET", "contexts") as { contexts: { id: string }[] };
  return snap.contexts.map((c) => c.id);
}

Deno.test("defect 1: a cancel racing a slow submit is never 'in doubt'; output and status tell the truth", async () => {
  await using s = await served();
  const t = await project(s);
  assertEquals((await t.create("race")).code, 0);
  await s.control("POST", "faults", { match: "POST /api/1.2/commands/execute", latency_ms: 3000, times: 1 });
  const code = "import time; time.sleep(2); print('RESULT=42'); done_flag=True";
  const running = t.exec(code, "important", ["--timeout", "60"]);
  await activeIn(t, "submitting");
  await sleep(500);
  const c = await t.run(["cancel"]);
  assertEquals(c.code, 0, c.stdout + c.stderr);
  const cj = c.json();
  assert(!/stopped/.test(String(cj.message ?? "")), `cancel must not call a live exec stopped: ${c.stdout}`);
  // The cancel waited for the command id, then cancelled it: the command (2 s of sleep) did not end.
  assertEquals([cj.settled, cj.cmd_id, cj.step_status], [true, "001_important", "Cancelled"], c.stdout);
  assertMatch(String(cj.command_id), /.+/);
  const r = await running;
  const j = r.json();
  // Whatever happened remotely is what is recorded: the step, its files and the context agree.
  const sj = await t.sessionJson();
  assertEquals(sj.active_command, undefined);
  const step = sj.steps.find((x: J) => x.tag === "important");
  assertEquals(step.status, j.status, r.stdout);
  assert(await t.exists("repl_outputs/001_important.stdout"), "the .stdout file is written");
  assert(await t.exists("repl_outputs/001_important.stderr"), "the .stderr file is written");
  const probe = await t.exec("print(globals().get('done_flag'))", "probe");
  assertEquals(probe.code, 0, probe.stdout);
  if (j.status === "Finished") {
    assertEquals(r.code, 0);
    assertStringIncludes(await t.file("repl_outputs/001_important.stdout"), "RESULT=42");
    assertEquals(probe.json().stdout_preview, "True");
  } else {
    assertEquals([r.code, j.status], [130, "Cancelled"], r.stdout);
    assertEquals(
      probe.json().stdout_preview,
      "None",
      "a step recorded Cancelled must not have run to its end",
    );
  }
});

Deno.test("defect 2: four concurrent creates in one folder: one wins, three are SessionExists and leave no context", async () => {
  await using s = await served();
  const t = await project(s);
  const before = await liveContexts(s);
  const rs = await Promise.all([1, 2, 3, 4].map((i) => t.create(`c${i}`)));
  const codes = rs.map((r) => r.code).sort();
  assertEquals(codes, [0, 5, 5, 5], rs.map((r) => r.stdout).join("\n"));
  for (const r of rs.filter((r) => r.code === 5)) assertEquals(r.json().status, "SessionExists");
  const winner = rs.find((r) => r.code === 0)!.json();
  const sj = await t.sessionJson();
  assertEquals(sj.context_id, winner.context_id);
  const after = (await liveContexts(s)).filter((id) => !before.includes(id));
  assertEquals(after, [winner.context_id as string], "only the winner's context stays open");
  // No session was archived as if --force had been given.
  const archived = [...Deno.readDirSync(t.dir)].filter((e) => /^session\..+\.json$/.test(e.name));
  assertEquals(archived, []);
});

Deno.test("defect 2: a slow create does not replace a session made meanwhile", async () => {
  await using s = await served();
  const t = await project(s);
  await s.control("POST", "faults", { match: "POST /api/1.2/contexts/create", latency_ms: 4000, times: 1 });
  const slow = t.create("slow");
  await sleep(800);
  const fast = await t.create("fast");
  assertEquals(fast.code, 0, fast.stdout + fast.stderr);
  const b = await t.exec("secret_state='B'", "b");
  assertEquals(b.code, 0, b.stdout);
  const sl = await slow;
  assertEquals([sl.code, sl.json().status], [5, "SessionExists"], sl.stdout);
  const probe = await t.exec("print(secret_state)", "probe");
  assertEquals([probe.code, probe.json().stdout_preview], [0, "B"], probe.stdout);
  assertEquals(await liveContexts(s), [fast.json().context_id as string]);
});

Deno.test("issue 10: create after destroy, and create --force, carry the earlier steps over", async () => {
  await using s = await served();
  const t = await project(s);
  assertEquals((await t.create("first")).code, 0);
  await t.exec("print(1)", "one");
  assertEquals((await t.run(["destroy"])).code, 0);
  const again = await t.create("second");
  assertEquals(again.code, 0, again.stdout);
  let sj = await t.sessionJson();
  assertEquals(sj.session_name, "second");
  assertEquals(sj.steps.map((x: J) => [x.step, x.tag, x.session_name, x.status]), [[
    1,
    "one",
    "first",
    "Finished",
  ]]);
  const two = await t.exec("print(2)", "two");
  assertEquals(two.json().cmd_id, "002_two");
  const forced = await t.create("third", ["--force"]);
  assertEquals(forced.code, 0, forced.stdout);
  assert(typeof forced.json().previous_session_file === "string", "the replaced file is still archived");
  sj = await t.sessionJson();
  assertEquals(sj.steps.map((x: J) => [x.step, x.tag]), [[1, "one"], [2, "two"]]);
  assertEquals((await t.exec("print(3)", "three")).json().cmd_id, "003_three");
});

Deno.test("SessionBusy: a second exec while a command runs names the active step, never status Running", async () => {
  await using s = await served();
  const t = await project(s);
  assertEquals((await t.create("busy")).code, 0);
  const first = t.exec("import time; time.sleep(6); print('a')", "a");
  await activeIn(t, "submitted");
  const b = await t.exec("print('b')", "b");
  assertEquals(b.code, 5, b.stdout);
  const j = b.json();
  assertEquals(j.status, "SessionBusy");
  assertEquals(j.error, "SessionBusy");
  assertEquals(j.cmd_id, "001_a");
  assertMatch(String(j.command_id), /.+/);
  const tip = j.tip as J;
  assertStringIncludes(String(tip.await), "dbxr await");
  assertStringIncludes(String(tip.cancel), "dbxr cancel");
  const a = await first;
  assertEquals([a.code, a.json().stdout_preview], [0, "a"]);
  assertEquals((await t.sessionJson()).steps.map((x: J) => x.tag), ["a"]);
});

Deno.test("defect 4: Ctrl-C on code that swallows KeyboardInterrupt: it stays active, the next exec is SessionBusy", async () => {
  await using s = await served();
  const t = await project(s);
  assertEquals((await t.create("stubborn")).code, 0);
  const executes = async () => (await s.counts())["POST /api/1.2/commands/execute"] ?? 0;
  const before = await executes();
  // Catches the interrupt, prints, and goes on for 24 s before it ends on its own.
  const code =
    "import time\nfor i in range(24):\n    try:\n        time.sleep(1)\n    except KeyboardInterrupt:\n" +
    "        print('caught', flush=True)\nprint('ended on its own')";
  let interruptedAt = 0;
  const r = await t.exec(code, "stubborn", ["--timeout", "120"], {
    onSpawn: async (child: Deno.ChildProcess) => {
      // SIGINT once the command runs remotely (a loaded machine may take seconds to get there).
      await activeIn(t, "submitted");
      await sleep(500);
      interruptedAt = Date.now();
      child.kill("SIGINT");
    },
  });
  const took = (Date.now() - interruptedAt) / 1000;
  assertEquals(r.code, 130, r.stdout + r.stderr);
  const j = r.json();
  assertEquals(j.settled, false, r.stdout);
  assertEquals(j.cmd_id, "001_stubborn");
  assertEquals(j.status, "Running", "it has not ended: it is not called Cancelled");
  assertMatch(String(j.message), /not ended/);
  assert(took < 18, `the settle promise is 10 s, dbxr took ${took}s after the SIGINT`);
  assertEquals(await executes() - before, 1, "no helper command was queued behind the running one");
  const sj = await t.sessionJson();
  assertEquals(sj.active_command?.step, 1, "a command that has not ended stays the active command");
  assertEquals(sj.active_command?.remote_status, "Cancelling");
  assertEquals(sj.steps, []);
  // The next exec is refused instead of queueing behind it.
  const next = await t.exec("print('queued?')", "next");
  assertEquals([next.code, next.json().status, next.json().cmd_id], [5, "SessionBusy", "001_stubborn"]);
  // await records it once it ends, with what it printed (nothing lost).
  const a = await t.run(["await", "--timeout", "60"]);
  assertEquals(a.code === 0 || a.code === 130, true, a.stdout);
  const out = await t.file("repl_outputs/001_stubborn.stdout");
  assertStringIncludes(out, "caught");
  assertStringIncludes(out, "ended on its own");
  const after = await t.sessionJson();
  assertEquals(after.active_command, undefined);
  // No step was ever queued behind the stubborn one: only it is recorded (the refused exec left a .cmd).
  assertEquals(after.steps.map((x: J) => x.tag), ["stubborn"]);
});

Deno.test("defect 5: 20 MiB then an error: the END is kept, truncation is reported, recovery takes few round trips", async () => {
  await using s = await served();
  const t = await project(s);
  assertEquals((await t.create("big")).code, 0);
  // Training-log lines with random figures (they compress about 4x, as real logs do), 20 MiB in all.
  const code = "import sys, random\nr = random.Random(1)\nn = 0\nwhile n < 20 * 1024 * 1024:\n" +
    "    s = '%08d epoch=%d loss=%.6f lr=%.3e grad=%.4f tok/s=%d\\n' % " +
    "(n, n // 100000, r.random(), r.random() / 1000, r.random() * 10, r.randrange(10000, 90000))\n" +
    "    sys.stdout.write(s)\n    n += len(s)\nprint('LAST LINE BEFORE ERROR')\nraise ValueError('boom')";
  const before = (await s.counts())["POST /api/1.2/commands/execute"] ?? 0;
  const started = Date.now();
  const r = await t.exec(code, "big", ["--timeout", "300"]);
  const seconds = (Date.now() - started) / 1000;
  const trips = ((await s.counts())["POST /api/1.2/commands/execute"] ?? 0) - before - 1;
  // The figure for the report (README, BENCHMARKS.md): printed, not asserted beyond the bound below.
  Deno.stderr.writeSync(
    new TextEncoder().encode(
      `recovery of 20 MiB + error: ${trips} helper round trips, exec ${seconds.toFixed(1)} s\n`,
    ),
  );
  assertEquals(r.code, 1, r.stdout.slice(0, 2000));
  const j = r.json();
  assertEquals(j.status, "Error");
  assertEquals(j.truncated, true, "20 MiB and more cannot all be kept: say so");
  const out = await t.file("repl_outputs/001_big.stdout");
  assert(out.trimEnd().endsWith("LAST LINE BEFORE ERROR"), `the end is kept: ${out.slice(-200)}`);
  assertMatch(out.slice(0, 4096), /dbxr: .*cut/);
  assertStringIncludes(await t.file("repl_outputs/001_big.stderr"), "ValueError");
  const sj = await t.sessionJson();
  assertEquals(sj.steps[0].truncated, true);
  assert(trips <= 40, `recovery took ${trips} round trips (at most 4 MiB at ~140 kB each)`);
});

Deno.test("exec, cancel, await and status racing without injected latency: the record always tells the truth", async () => {
  await using s = await served();
  const t = await project(s);
  assertEquals((await t.create("rounds")).code, 0);
  const seed = Number(Deno.env.get("DBXR_RACE_SEED") ?? Date.now() % 100_000);
  let state = seed;
  const rand = (n: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % n;
  };
  const say = (m: string) => Deno.stderr.writeSync(new TextEncoder().encode(m + "\n"));
  say(`race seed ${seed} (DBXR_RACE_SEED=${seed} replays it)`);
  for (let round = 1; round <= 6; round++) {
    const sleepMs = rand(600);
    const code = `import time; time.sleep(${sleepMs / 1000}); print('R${round}'); flag_${round} = True`;
    const exec = t.exec(code, `r${round}`, ["--timeout", "60"]);
    const others = Promise.all([
      sleep(rand(700)).then(() => t.run(["cancel"])),
      sleep(rand(700)).then(() => t.run(["status"])),
      sleep(rand(700)).then(() => t.run(["await", "--timeout", "60"])),
    ]);
    const [r, [c, st, a]] = await Promise.all([exec, others]);
    for (const x of [r, c, st, a]) {
      assert(x.stdout.trim().startsWith("{"), `JSON answers: ${x.stdout}${x.stderr}`);
    }
    assert([0, 130].includes(r.code), `round ${round} (seed ${seed}): exec ${r.code} ${r.stdout}`);
    assert([0, 4].includes(c.code), `round ${round} (seed ${seed}): cancel ${c.code} ${c.stdout}`);
    assert(
      !/stopped/.test(c.stdout),
      `round ${round} (seed ${seed}): a live exec called stopped: ${c.stdout}`,
    );
    const sj = await t.sessionJson();
    assertEquals(sj.active_command, undefined, `round ${round} (seed ${seed})`);
    const steps = sj.steps as J[];
    assertEquals(new Set(steps.map((x) => x.step)).size, steps.length, "step numbers are unique");
    const mine = steps.filter((x) => x.tag === `r${round}`);
    assertEquals(mine.length, 1, `round ${round} (seed ${seed}): ${JSON.stringify(steps)}`);
    const rec = mine[0];
    assertEquals(rec.status, r.json().status, `round ${round} (seed ${seed}): exec and record agree`);
    const prefix = String(rec.step).padStart(3, "0") + `_r${round}`;
    assert(await t.exists(`repl_outputs/${prefix}.stdout`), `round ${round}: .stdout written`);
    assert(await t.exists(`repl_outputs/${prefix}.stderr`), `round ${round}: .stderr written`);
    const probe = await t.exec(`print(globals().get('flag_${round}'))`, `p${round}`);
    const ran = probe.json().stdout_preview === "True";
    assertEquals(ran, rec.status === "Finished", `round ${round} (seed ${seed}): recorded ${rec.status}`);
    if (ran) assertEquals(await t.file(`repl_outputs/${prefix}.stdout`), `R${round}`);
    void st;
    void a;
  }
});

Deno.test("a command is in doubt only once its exec process is gone: status and cancel before and after a kill -9", async () => {
  await using s = await served();
  const t = await project(s);
  assertEquals((await t.create("doubt")).code, 0);
  await s.control("POST", "faults", { match: "POST /api/1.2/commands/execute", latency_ms: 6000, times: 1 });
  let child: Deno.ChildProcess | undefined;
  const running = t.exec("print('maybe')", "maybe", [], { onSpawn: (c: Deno.ChildProcess) => child = c });
  await activeIn(t, "submitting");
  const alive = (await t.run(["status"])).json().active_command as J;
  assertEquals([alive.cmd_id, alive.remote_status], ["001_maybe", "submitting"]);
  const busy = await t.exec("print(1)", "busy");
  assertEquals([busy.code, busy.json().status], [5, "SessionBusy"]);
  assertStringIncludes(String(busy.json().message), "being submitted by another dbxr process");
  child!.kill("SIGKILL");
  await running;
  const gone = (await t.run(["status"])).json().active_command as J;
  assertEquals(gone.remote_status, "in-doubt");
  const c = await t.run(["cancel"]);
  assertEquals(c.code, 0, c.stdout);
  assertEquals([c.json().settled, c.json().command_id, c.json().cmd_id], [true, null, "001_maybe"]);
  assertStringIncludes(String(c.json().message), "stopped");
  const sj = await t.sessionJson();
  assertEquals(sj.active_command, undefined);
  assertEquals(sj.steps.map((x: J) => [x.tag, x.status]), [["maybe", "Cancelled"]]);
  assertStringIncludes(await t.file("repl_outputs/001_maybe.stderr"), "may or may not have run");
  assertEquals([...Deno.readDirSync(`${t.dir}/repl_outputs`)].some((e) => e.name.endsWith(".lock")), false);
});
