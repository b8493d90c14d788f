// Crashes suite (issue 9 §2): kill -9 of dbxr at each phase of create, exec, await, cancel, destroy and job run.
// A phase is found by an observable marker: session.json's active command, the emulator's job runs, or a
// latency fault that holds the request inside the server (the fault is taken when the request arrives, so
// its disappearing from GET /__emulator/faults says the request is in there) so that the kill lands in it.
// Then the next command must recover: nothing lost, nothing blocked, no context that nothing tracks.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import type { CliResult } from "../helpers/cli.ts";
import { type Served, served } from "../helpers/served.ts";
import {
  assertCoded,
  checkRemote,
  checkSession,
  liveContexts,
  type Project,
  project,
  say,
  sleep,
  untrackedContexts,
  VERBOSE,
  waitForActive,
} from "../helpers/suite.ts";

type J = Record<string, unknown>;

/** Holds the next matching request inside the server for `ms` (the kill lands while it is there). */
async function hold(s: Served, match: string, ms = 2500) {
  await s.control("POST", "faults", { match, latency_ms: ms, times: 1 });
}

/** Resolves once every fault has been taken, i.e. the held request has reached the server. */
async function held(s: Served, ms = 30_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (((await s.control("GET", "faults")) as { faults: unknown[] }).faults.length === 0) return;
    await sleep(20);
  }
  throw new Error("the held request never reached the server");
}

/** Runs dbxr and SIGKILLs it once `marker` resolves; answers its (killed) result. */
async function killedAt(
  run: (opts: { onSpawn: (c: Deno.ChildProcess) => void }) => Promise<CliResult>,
  marker: () => Promise<void>,
  label: string,
): Promise<CliResult> {
  let child: Deno.ChildProcess | undefined;
  const result = run({ onSpawn: (c) => (child = c) });
  await marker();
  try {
    child!.kill("SIGKILL");
  } catch { /* it ended first: then the phase was not hit */ }
  const r = await result;
  assertEquals(r.code, 137, `${label}: the kill landed while dbxr ran (exit ${r.code}): ${r.stdout}`);
  if (VERBOSE) say(`crashes: killed ${label}`);
  return r;
}

async function jobRuns(s: Served): Promise<J[]> {
  return ((await s.control("GET", "jobs")) as { runs: J[] }).runs;
}

/** After a kill: the session is true, settles, and takes the next exec; the emulator agrees; nothing untracked. */
async function recovers(s: Served, p: Project, label: string, expectOutput?: { marker: string }) {
  let sj = await checkSession(p, `${label}: right after the kill`);
  const st = await p.run(["status"]);
  assertCoded(st, `${label}: status after the kill`);
  if (sj?.active_command) {
    const a = await p.run(["await", "--timeout", "60"]);
    const aj = assertCoded(a, `${label}: await after the kill`);
    if (a.code !== 0 && aj.error === "SessionLocked") throw new Error(`${label}: blocked: ${a.stdout}`);
  }
  sj = await checkSession(p, `${label}: after await`);
  if (sj?.active_command) {
    // In doubt (killed while submitting): cancel settles it one way or the other.
    assertCoded(await p.run(["cancel"]), `${label}: cancel after the kill`);
    sj = await checkSession(p, `${label}: after cancel`);
  }
  assertEquals(sj?.active_command, undefined, `${label}: nothing stays active`);
  await checkRemote(s, sj, label);
  if (expectOutput) {
    const steps = (sj?.steps ?? []) as J[];
    const step = steps.at(-1)!;
    const out = await Deno.readTextFile(
      `${p.dir}/${String(step.command_file).replace(/\.cmd\.py$/, ".stdout")}`,
    )
      .catch(() => "");
    if (step.status === "Finished") assertStringIncludes(out, expectOutput.marker, `${label}: output kept`);
  }
  if (sj?.status === "active") {
    const next = await p.exec("print('NEXT_OK')", `next_${label.replace(/\W+/g, "_")}`.slice(0, 40));
    const nj = assertCoded(next, `${label}: the next exec`);
    if (next.code === 9) {
      // The context went with the crash (a destroy that reached the server): the next exec after that runs.
      const again = await p.exec("print('NEXT_OK')", "next_again");
      assertEquals([again.code, again.json().stdout_preview], [0, "NEXT_OK"], `${label}: ${again.stdout}`);
    } else {
      assertEquals(
        [next.code, nj.stdout_preview],
        [0, "NEXT_OK"],
        `${label}: the next exec runs: ${next.stdout}`,
      );
    }
  }
  assertEquals(await untrackedContexts(s), [], `${label}: contexts that nothing tracks`);
}

Deno.test("crashes: kill -9 at each phase of create; the next create recovers and no context goes untracked", async () => {
  await using s = await served();
  // Before any request.
  let p = await project(s, "crash-create-");
  await killedAt(
    (o) =>
      s.dbxr(["create", "--cluster-id", p.cluster, "--session-name", "early", "--project-dir", p.dir], o),
    () => sleep(30),
    "create before any request",
  );
  let again = await p.create("again");
  assertEquals(again.code, 0, again.stdout);
  await recovers(s, p, "create before any request");

  // During the bootstrap (the context exists: it must be in the registry already).
  p = await project(s, "crash-create-");
  await hold(s, "POST /api/1.2/commands/execute");
  await killedAt(
    (o) => s.dbxr(["create", "--cluster-id", p.cluster, "--session-name", "boot", "--project-dir", p.dir], o),
    () => held(s),
    "create during its bootstrap",
  );
  assertEquals(await untrackedContexts(s), [], "a context killed mid-bootstrap is in the registry");
  assertEquals(await p.session(), undefined, "no session was written for it");
  again = await p.create("again");
  assertEquals(again.code, 0, again.stdout);
  await recovers(s, p, "create during its bootstrap");

  // Inside contexts/create: the server makes the context after the client died; no client can know its id
  // (API 1.2 cannot list contexts), so at most that one context is left to the cluster's idle eviction.
  p = await project(s, "crash-create-");
  const before = (await liveContexts(s)).length;
  await hold(s, "POST /api/1.2/contexts/create");
  await killedAt(
    (o) =>
      s.dbxr(["create", "--cluster-id", p.cluster, "--session-name", "inside", "--project-dir", p.dir], o),
    () => held(s),
    "create inside contexts/create",
  );
  await sleep(3000);
  const orphans = await untrackedContexts(s);
  assert(orphans.length <= 1, `at most the context of the killed request: ${orphans}`);
  for (const id of orphans) await s.control("POST", `contexts/${id}/evict`);
  assert((await liveContexts(s)).length - before <= 1);
  again = await p.create("again");
  assertEquals(again.code, 0, again.stdout);
  await recovers(s, p, "create inside contexts/create");
});

Deno.test("crashes: kill -9 of exec before submit, after submit, while watching; await, cancel and destroy mid-request", async () => {
  await using s = await served();
  const p = await project(s, "crash-repl-");
  assertEquals((await p.create("crash")).code, 0);

  // exec, killed with its submit held inside the server: the command runs without a process that knows it.
  await hold(s, "POST /api/1.2/commands/execute");
  await killedAt(
    (o) => p.exec("print('SUBMITTED_BY_THE_DEAD')", "in_submit", [], o),
    async () => {
      await waitForActive(p, "submitting");
      await held(s);
    },
    "exec inside its submit",
  );
  await sleep(3000); // the held submit goes through
  await recovers(s, p, "exec inside its submit");

  // exec, killed right after the API answered with the command id.
  await killedAt(
    (o) => p.exec("import time; time.sleep(1); print('AFTER_SUBMIT')", "after_submit", [], o),
    () => waitForActive(p, "submitted"),
    "exec after submit",
  );
  await recovers(s, p, "exec after submit", { marker: "AFTER_SUBMIT" });

  // exec, killed while it polls.
  await killedAt(
    (o) => p.exec("import time; time.sleep(2.5); print('WHILE_WATCHING')", "watching", [], o),
    async () => {
      await waitForActive(p, "submitted");
      await sleep(1200);
    },
    "exec while watching",
  );
  await recovers(s, p, "exec while watching", { marker: "WHILE_WATCHING" });

  // await, killed inside a status poll.
  let e = await p.exec("import time; time.sleep(2); print('AWAITED')", "awaited", ["--timeout", "1"]);
  assertEquals(e.code, 8, e.stdout);
  await hold(s, "GET /api/1.2/commands/status");
  await killedAt((o) => p.run(["await", "--timeout", "60"], o), () => held(s), "await inside a poll");
  await recovers(s, p, "await inside a poll", { marker: "AWAITED" });

  // cancel, killed inside commands/cancel (the cancel reaches the server after the kill).
  e = await p.exec("import time; time.sleep(30); print('never')", "to_cancel", ["--timeout", "1"]);
  assertEquals(e.code, 8, e.stdout);
  await hold(s, "POST /api/1.2/commands/cancel");
  await killedAt((o) => p.run(["cancel"], o), () => held(s), "cancel inside its request");
  await sleep(2500);
  await recovers(s, p, "cancel inside its request");

  // cancel, killed while it waits for the command to settle.
  e = await p.exec("import time; time.sleep(30); print('never')", "to_cancel2", ["--timeout", "1"]);
  assertEquals(e.code, 8, e.stdout);
  await hold(s, "GET /api/1.2/commands/status");
  await killedAt((o) => p.run(["cancel"], o), () => held(s), "cancel while settling");
  await recovers(s, p, "cancel while settling");

  // destroy, killed inside contexts/destroy (the context goes after the kill).
  await hold(s, "POST /api/1.2/contexts/destroy");
  await killedAt((o) => p.run(["destroy"], o), () => held(s), "destroy inside its request");
  await sleep(3000);
  const st = await p.run(["status"]);
  assertCoded(st, "status after a killed destroy");
  const d = await p.run(["destroy"]);
  assertCoded(d, "destroy again");
  const sj = await checkSession(p, "after destroy");
  assertEquals(sj?.status, "destroyed", d.stdout);
  assertEquals((await liveContexts(s)).filter((c) => c.id === sj?.context_id), []);
  const fresh = await p.create("after_destroy");
  assertEquals(fresh.code, 0, fresh.stdout);
  await recovers(s, p, "destroy inside its request");
});

Deno.test("crashes: kill -9 of job run before submit, after submit, while watching; every run is found and its output fetched", async () => {
  await using s = await served();
  const p = await project(s, "crash-job-");
  await Deno.writeTextFile(`${p.dir}/job.py`, "import time\ntime.sleep(2)\nprint('JOB_OUTPUT')\n");
  const run = (o: { onSpawn: (c: Deno.ChildProcess) => void }) =>
    s.dbxr(["--project-dir", p.dir, "job", "run", "job.py", "--cluster-id", p.cluster], { cwd: p.dir, ...o });

  await hold(s, "POST /api/2.2/jobs/runs/submit");
  await killedAt(run, () => held(s), "job run inside its submit");
  await sleep(3000);
  await killedAt(run, async () => {
    const n = (await jobRuns(s)).length;
    while ((await jobRuns(s)).length === n) await sleep(20);
  }, "job run after submit");
  await killedAt(run, async () => {
    const n = (await jobRuns(s)).length;
    while ((await jobRuns(s)).length === n) await sleep(20);
    await sleep(1000);
  }, "job run while watching");
  const runs = await jobRuns(s);
  assertEquals(runs.length, 3, "one run per killed invocation that reached the submit, never two");
  // Nothing lost: each run is listed and its output can be fetched.
  const list = await s.dbxr(["--project-dir", p.dir, "job", "list"], { cwd: p.dir });
  const listed = JSON.stringify(assertCoded(list, "job list"));
  for (const r of runs) {
    assertStringIncludes(listed, String(r.run_id));
    const w = await s.dbxr(["--project-dir", p.dir, "job", "watch", String(r.run_id)], { cwd: p.dir });
    assertEquals(w.code, 0, w.stdout);
    const log = await Deno.readTextFile(`${p.dir}/job_outputs/${r.run_id}/main.log`);
    assertStringIncludes(log, "JOB_OUTPUT");
  }
  // Nothing blocked: the next run goes through.
  const next = await s.dbxr(["--project-dir", p.dir, "job", "run", "job.py", "--cluster-id", p.cluster], {
    cwd: p.dir,
  });
  assertEquals(next.code, 0, next.stdout);
});
