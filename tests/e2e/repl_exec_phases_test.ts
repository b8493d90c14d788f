// exec's phases (src/repl/exec.ts): phase 3 records the command id while the first status poll goes out,
// and nothing is decided on what a poll saw before that record is made. The test holds the session lock
// itself (as another dbxr process would) so that phase 3 has to wait while the command has long ended.

import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { replSession, served } from "../helpers/served.ts";

type J = Record<string, unknown>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("exec: a command that ends while phase 3 waits for the lock is finalised only after its id is recorded", async () => {
  await using s = await served();
  const { dir } = await replSession(s, "phases");
  const sessionJson = async () => JSON.parse(await Deno.readTextFile(`${dir}/session.json`)) as J;
  const statusCount = async () =>
    ((await s.control("GET", "requests/counts")) as { counts: Record<string, number> })
      .counts["GET /api/1.2/commands/status"] ?? 0;
  const exists = (rel: string) => Deno.lstat(`${dir}/${rel}`).then(() => true, () => false);

  // The submit is held in the server, so that the lock can be taken between phase 1 and phase 3.
  await s.control("POST", "faults", { match: "POST /api/1.2/commands/execute", latency_ms: 1500, times: 1 });
  const polledBefore = await statusCount();
  const running = s.dbxr(["exec", "--command", "print('quick')", "--tag", "quick", "--project-dir", dir]);
  for (let i = 0;; i++) {
    const a = (await sessionJson().catch((): J => ({}))).active_command as J | undefined;
    if (a?.state === "submitting") break;
    if (i > 600) throw new Error("exec never recorded its step");
    await sleep(20);
  }
  const lock = await Deno.open(`${dir}/.session.lock`, { read: true, write: true });
  let released = false;
  try {
    await lock.lock(true); // phase 1 is done (the step is recorded); phase 3 now waits for us
    // The submit answers 1.5 s after it reached the server; `print` ends at once; a poll goes out.
    const deadline = Date.now() + 20_000;
    while ((await statusCount()) === polledBefore) {
      if (Date.now() > deadline) throw new Error("no status request while phase 3 waited for the lock");
      await sleep(50);
    }
    await sleep(300); // time for a wrong finalize to happen, if one were to
    // The command has ended, but nothing was decided on it: no id recorded yet, so no outputs either.
    const a = (await sessionJson()).active_command as J;
    assertEquals([a.state, a.command_id], ["submitting", undefined]);
    assert(
      !(await exists("repl_outputs/001_quick.stdout")),
      "no output is written before the id is recorded",
    );
    assertEquals(((await sessionJson()).steps as J[]).length, 0);
    await lock.unlock();
    released = true;
  } finally {
    if (!released) await lock.unlock().catch(() => {});
    lock.close();
  }
  const r = await running;
  assertEquals(r.code, 0, r.stdout + r.stderr);
  assertEquals([r.json().status, r.json().stdout_preview], ["Finished", "quick"]);
  const sj = await sessionJson();
  assertEquals(sj.active_command, undefined);
  const step = (sj.steps as J[]).find((x) => x.tag === "quick")!;
  assertEquals(step.status, "Finished");
  assertMatch(String(step.command_id), /.+/, "the step carries the command id that phase 3 recorded");
  assertEquals(await Deno.readTextFile(`${dir}/repl_outputs/001_quick.stdout`), "quick");
});
