// The REPL under API faults that a user cannot see coming: a status request that hangs must not stretch
// --timeout.

import { assert, assertEquals } from "../helpers/assert.ts";
import { replSession, served } from "../helpers/served.ts";

Deno.test("exec --timeout 3 answers Running at ~3 s even when a status request hangs for 15 s", async () => {
  await using s = await served();
  const { dir } = await replSession(s, "slow");
  await s.control("POST", "faults", { match: "GET /api/1.2/commands/status", latency_ms: 15_000, times: 1 });
  const started = Date.now();
  const r = await s.dbxr([
    "exec",
    "--command",
    "import time; time.sleep(6); print('late')",
    "--tag",
    "slow",
    "--timeout",
    "3",
    "--project-dir",
    dir,
  ]);
  const took = (Date.now() - started) / 1000;
  assertEquals(r.code, 8, r.stdout);
  assertEquals(r.json().status, "Running");
  assert(took < 10, `exec --timeout 3 took ${took} s`);
  const a = await s.dbxr(["await", "--project-dir", dir]);
  assertEquals(a.code, 0, a.stdout);
  assertEquals(a.json().stdout_preview, "late");
});

Deno.test("one transient 500 on commands/status does not end the wait: Finished, and the session goes on", async () => {
  await using s = await served();
  const { run } = await replSession(s, "t500");
  await s.control("POST", "faults", {
    match: "GET /api/1.2/commands/status",
    status: 500,
    times: 1,
    skip: 1,
  });
  const r = await run(["exec", "--command", "import time; time.sleep(1); print('ok')", "--tag", "a"]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  assertEquals([r.json().status, r.json().stdout_preview], ["Finished", "ok"]);
  const next = await run(["exec", "--command", "print('next')", "--tag", "b"]);
  assertEquals([next.code, next.json().status], [0, "Finished"]);
});

Deno.test("status requests that keep failing past --timeout answer Running (the step stays active), never an error", async () => {
  await using s = await served();
  const { run } = await replSession(s, "t500s");
  await s.control("POST", "faults", { match: "GET /api/1.2/commands/status", status: 500, times: 1000 });
  const r = await run(["exec", "--command", "print('done anyway')", "--tag", "a", "--timeout", "3"]);
  assertEquals(r.code, 8, r.stdout);
  assertEquals(r.json().status, "Running");
  assert((r.json().message as string).includes("status request(s) failed"), r.json().message as string);
  await s.control("DELETE", "faults");
  const a = await run(["await"]);
  assertEquals(a.code, 0, a.stdout);
  assertEquals([a.json().status, a.json().stdout_preview], ["Finished", "done anyway"]);
});
