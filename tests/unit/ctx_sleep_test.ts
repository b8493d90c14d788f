// The real ctx.sleep (sleepWithSignal) and poll()'s per-check deadline run on AbortSignal.timeout, not
// setTimeout (Deno's first setTimeout costs milliseconds of lazy start-up in `dbxr exec`). Its timer does
// not keep a process alive by itself: these tests pin that a pending sleep or check still does, and that a
// sleep cut short by its signal neither resolves late nor holds the process.

import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { sleepWithSignal } from "../../src/ctx.ts";

Deno.test("sleepWithSignal waits about as long as asked", async () => {
  const t0 = performance.now();
  await sleepWithSignal(60);
  const took = performance.now() - t0;
  assert(took >= 59 && took < 1000, `slept ${took} ms`);
});

Deno.test("sleepWithSignal rejects with the signal's reason at once when aborted, and before it starts", async () => {
  const c = new AbortController();
  const t0 = performance.now();
  const p = sleepWithSignal(60_000, c.signal);
  setTimeout(() => c.abort(new Error("stop")), 20);
  await assertRejects(() => p, (e) => assertEquals((e as Error).message, "stop"));
  assert(performance.now() - t0 < 5_000);
  await assertRejects(
    () => sleepWithSignal(10, c.signal),
    (e) => assertEquals((e as Error).message, "stop"),
  );
});

/** Runs `code` (which may import the two modules by absolute URL) in a fresh Deno; its stdout and exit. */
async function runScript(code: string): Promise<{ out: string; code: number; ms: number }> {
  const ctx = new URL("../../src/ctx.ts", import.meta.url).href;
  const poll = new URL("../../src/poll.ts", import.meta.url).href;
  const t0 = performance.now();
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", code.replaceAll("CTX", ctx).replaceAll("POLL", poll)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { out: new TextDecoder().decode(r.stdout).trim(), code: r.code, ms: performance.now() - t0 };
}

Deno.test("a pending sleep keeps the process alive; an aborted one does not hold it for its whole delay", async () => {
  const alive = await runScript(
    `import { sleepWithSignal } from "CTX"; await sleepWithSignal(300); console.log("woke");`,
  );
  assertEquals([alive.out, alive.code], ["woke", 0]);
  const cut = await runScript(
    `import { sleepWithSignal } from "CTX"; const c = new AbortController();
     const p = sleepWithSignal(60000, c.signal).catch(() => console.log("cut")); c.abort(); await p;`,
  );
  assertEquals([cut.out, cut.code], ["cut", 0]);
  assert(cut.ms < 30_000, `the process waited for the aborted sleep's timer (${cut.ms} ms)`);
});

Deno.test("poll's per-check deadline keeps a process alive while a check runs, and expires a hung check", async () => {
  const r = await runScript(
    `import { poll } from "POLL";
     const ctx = { now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
     const o = await poll(ctx, () => new Promise(() => {}), { timeoutMs: 200, schedule: () => 50 });
     console.log(o.done ? "done" : "expired");`,
  );
  assertEquals([r.out, r.code], ["expired", 0]);
  assert(r.ms < 30_000);
});
