// Races suite (issue 9 §2): 10 dbxr invocations racing on one project folder (random mixes of exec, await,
// cancel, status, create and destroy, with and without injected latency) for N rounds from a printed seed
// (DBXR_SUITE_SEED replays it); then 20 sessions in 20 folders in parallel against one emulator. After each
// round: every answer coded, session.json valid, every step that ran has its files (and an exec that answered
// Finished has its own output in them), step numbers unique, at most one command active remotely and none
// queued, and no context alive that the session does not point at.

import { assert, assertEquals } from "../helpers/assert.ts";
import type { CliResult } from "../helpers/cli.ts";
import { served } from "../helpers/served.ts";
import {
  assertCoded,
  checkRemote,
  checkSession,
  liveContexts,
  LONG,
  project,
  say,
  seeded,
  sleep,
  untrackedContexts,
  VERBOSE,
} from "../helpers/suite.ts";

type J = Record<string, unknown>;
type Op = "exec" | "await" | "cancel" | "status" | "create" | "destroy";
const WEIGHTED: Op[] = [
  ..."exec exec exec exec exec exec exec exec".split(" "),
  ..."await await await status status status cancel cancel cancel create create destroy".split(" "),
] as Op[];

Deno.test("races: 10 invocations on one folder, random mixes, N rounds from a seed", async () => {
  await using s = await served();
  const rng = seeded("races");
  const rounds = LONG ? 25 : 4;
  const p = await project(s, "races-");
  assertEquals((await p.create("races")).code, 0);
  const started = Date.now();
  const tally: Record<string, number> = {};
  for (let round = 1; round <= rounds; round++) {
    const label = `round ${round} (seed ${rng.seed})`;
    // Half the rounds with latency: everywhere, or on the submit only (the window of defect 1).
    const latency = rng.pick([0, 0, 100, 300]);
    await s.control("POST", "latency", { ms: latency });
    const slowSubmit = rng.chance(0.3);
    if (slowSubmit) {
      await s.control("POST", "faults", {
        match: "POST /api/1.2/commands/execute",
        latency_ms: 1500,
        times: 1,
      });
    }
    if ((await p.session())?.status !== "active") {
      const c = await p.create(`r${round}`, ["--force"]);
      assertEquals(c.code, 0, `${label}: set-up create: ${c.stdout}`);
    }
    const ops: Op[] = Array.from({ length: 10 }, () => rng.pick(WEIGHTED));
    const delays = ops.map(() => rng.int(600));
    const sleeps = ops.map(() => rng.int(8) / 10);
    const runs: Promise<CliResult>[] = ops.map(async (op, i) => {
      await sleep(delays[i]);
      const tag = `r${round}_${i}`;
      switch (op) {
        case "exec":
          return p.exec(
            `import time; time.sleep(${sleeps[i]}); print('OUT_${tag}'); flag_${tag} = True`,
            tag,
            ["--timeout", "60"],
          );
        case "await":
          return p.run(["await", "--timeout", "60"]);
        case "cancel":
          return p.run(["cancel"]);
        case "status":
          return p.run(["status"]);
        case "create":
          return p.create(`c${round}_${i}`);
        case "destroy":
          return p.run(["destroy"]);
      }
    });
    const results = await Promise.all(runs);
    await s.control("DELETE", "faults");
    await s.control("POST", "latency", { ms: 0 });
    const answers = results.map((r, i) => {
      const j = assertCoded(r, `${label}: ${ops[i]} #${i}`);
      const outcome = `${ops[i]}:${r.code === 0 ? "ok" : String(j.error ?? j.status)}`;
      tally[outcome] = (tally[outcome] ?? 0) + 1;
      return j;
    });
    if (VERBOSE) {
      say(
        `${label} latency ${latency}${slowSubmit ? " +slow submit" : ""}: ` +
          results.map((r, i) => `${ops[i]}=${r.code}`).join(" "),
      );
    }
    // Creates: where none was live, at most one create in a row wins (others SessionExists).
    const sj = await checkSession(p, label);
    assert(sj, `${label}: session.json exists`);
    // A command left active (an exec's Running answer, an unsettled cancel) is settled before the checks.
    if (sj.active_command) {
      const a = await p.run(["await", "--timeout", "60"]);
      assertCoded(a, `${label}: await at the end of the round`);
    }
    const after = (await checkSession(p, `${label} (settled)`))!;
    assertEquals(after.active_command, undefined, `${label}: nothing stays active`);
    await checkRemote(s, after, label);
    // Every exec that answered with a step: the record agrees, and its output is its own.
    const steps = after.steps as J[];
    for (const [i, j] of answers.entries()) {
      if (ops[i] !== "exec" || typeof j.cmd_id !== "string" || results[i].code === 5) continue;
      const rec = steps.find((x) => `${String(x.step).padStart(3, "0")}_${x.slug ?? x.tag}` === j.cmd_id);
      assert(rec, `${label}: exec #${i} answered ${j.cmd_id} (${j.status}) but no step records it`);
      if (j.status === "Finished") {
        assertEquals(rec.status, "Finished", `${label}: exec #${i}`);
        const out = await Deno.readTextFile(`${p.dir}/repl_outputs/${j.cmd_id}.stdout`);
        assertEquals(out.trim(), `OUT_${rec.tag}`, `${label}: exec #${i}'s output is its own`);
      }
    }
    // No context left running that the session does not point at; none that nothing tracks.
    const live = (await liveContexts(s)).map((c) => c.id);
    const expected = after.status === "active" ? [after.context_id] : [];
    assertEquals(live, expected, `${label}: live contexts ${live} vs the session's ${expected}`);
    assertEquals(await untrackedContexts(s), [], label);
  }
  say(
    `races: ${rounds} rounds x 10 invocations in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `outcomes ${JSON.stringify(tally)}`,
  );
});

Deno.test("races: 20 sessions in 20 folders in parallel against one emulator", async () => {
  await using s = await served();
  const started = Date.now();
  const steps = LONG ? 5 : 2;
  const folders = await Promise.all(Array.from({ length: 20 }, () => project(s, "par-")));
  await Promise.all(folders.map(async (p, i) => {
    const c = await p.create(`par${i}`);
    assertEquals(c.code, 0, `folder ${i}: ${c.stdout}`);
    const set = await p.exec(`mine = 'folder-${i}'`, "set");
    assertEquals(set.code, 0, `folder ${i}: ${set.stdout}`);
    for (let k = 0; k < steps; k++) {
      const r = await p.exec(`print(mine, ${k})`, `get${k}`);
      assertEquals([r.code, r.json().stdout_preview], [0, `folder-${i} ${k}`], `folder ${i}: ${r.stdout}`);
    }
    const sj = await checkSession(p, `folder ${i}`);
    assertEquals((sj!.steps as J[]).length, steps + 1);
    await checkRemote(s, sj, `folder ${i}`);
  }));
  const ids = new Set(await Promise.all(folders.map(async (p) => (await p.session())!.context_id)));
  assertEquals(ids.size, 20, "20 sessions, 20 contexts");
  assertEquals((await liveContexts(s)).length, 20);
  assertEquals(await untrackedContexts(s), []);
  await Promise.all(folders.map(async (p) => assertEquals((await p.run(["destroy"])).code, 0)));
  assertEquals(await liveContexts(s), []);
  say(
    `races: 20 folders x ${steps + 2} commands in parallel in ${
      ((Date.now() - started) / 1000).toFixed(1)
    } s`,
  );
});
