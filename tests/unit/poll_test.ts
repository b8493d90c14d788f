import { assert, assertEquals } from "../helpers/assert.ts";
import { commandSchedule, poll, slowSchedule } from "../../src/poll.ts";

/**
 * Simulates poll() on a command that finishes after durationMs, with a given round trip per request:
 * the server sees each request half a round trip after it is sent, and poll() counts the request's own
 * time toward the next delay.
 */
function simulate(durationMs: number, rttMs = 0) {
  let t = 0;
  let requests = 0;
  while (true) {
    const asked = t;
    requests++;
    const done = asked + rttMs / 2 >= durationMs;
    t += rttMs;
    if (done) return { requests, overheadMs: t - durationMs };
    t += Math.max(0, commandSchedule(t) - (t - asked));
  }
}

Deno.test("command schedule: below 1 s, a poll every 50 ms (as the fixed 50 ms poll it is compared with)", () => {
  for (const d of [10, 300, 500, 999]) {
    const r = simulate(d);
    assert(r.overheadMs <= 50, `D=${d}: overhead ${r.overheadMs} ms`);
    assert(r.requests <= Math.ceil(d / 50) + 1, `D=${d}: ${r.requests} requests`);
  }
});

Deno.test("command schedule: short commands return within 150 ms of finishing, with < D/0.05 requests", () => {
  for (const d of [2_000, 5_000]) {
    const r = simulate(d);
    assert(r.overheadMs <= 150, `D=${d}: overhead ${r.overheadMs} ms`);
    assert(r.requests < d / 50, `D=${d}: ${r.requests} requests`);
    const slow = simulate(d, 100);
    assert(slow.overheadMs <= 100 + 150, `D=${d}, RTT 100: overhead ${slow.overheadMs} ms`);
  }
});

Deno.test("command schedule: a 600 s command costs at most 200 requests and 5 s of overhead", () => {
  const r = simulate(600_000);
  assert(r.requests <= 200, `${r.requests} requests`);
  assert(r.overheadMs <= 5_000, `overhead ${r.overheadMs} ms`);
});

Deno.test("slow schedule starts at 1 s and never exceeds 10 s", () => {
  assertEquals(slowSchedule(0), 1_000);
  assertEquals(slowSchedule(10 * 60_000), 10_000);
});

function fakeClock() {
  let t = 1_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: (ms: number) => {
      sleeps.push(ms);
      t += ms;
      return Promise.resolve();
    },
  };
}

Deno.test("poll: checks at once, reports progress changes, returns the value", async () => {
  const clock = fakeClock();
  const states = ["PENDING", "PENDING", "RUNNING"];
  const progress: string[] = [];
  const r = await poll(clock, () => {
    const s = states.shift()!;
    return Promise.resolve(
      s === "RUNNING" ? { done: true as const, value: s } : { done: false as const, progress: s },
    );
  }, { timeoutMs: 60_000, schedule: slowSchedule, onProgress: (p) => progress.push(p) });
  assertEquals(r.done && r.value, "RUNNING");
  assertEquals(r.polls, 3);
  assertEquals(progress, ["PENDING"]);
  assertEquals(clock.sleeps.length, 2);
});

Deno.test("poll: a timeout is an outcome, and the last sleep does not overshoot it", async () => {
  const clock = fakeClock();
  const r = await poll(clock, () => Promise.resolve({ done: false as const }), {
    timeoutMs: 2_500,
    schedule: () => 1_000,
  });
  assertEquals(r.done, false);
  assertEquals(r.elapsedMs, 2_500);
  assertEquals(clock.sleeps, [1_000, 1_000, 500]);
});

Deno.test("poll: an aborted signal stops it with the signal's reason", async () => {
  const clock = fakeClock();
  const ac = new AbortController();
  let calls = 0;
  const p = poll(clock, () => {
    if (++calls === 2) ac.abort(new Error("interrupted"));
    return Promise.resolve({ done: false as const });
  }, { timeoutMs: 60_000, schedule: () => 10, signal: ac.signal });
  await p.then(
    () => assert(false, "should reject"),
    (e) => assertEquals((e as Error).message, "interrupted"),
  );
});

Deno.test("poll: the time a check takes counts toward the next delay (a cadence, not a gap)", async () => {
  const clock = fakeClock();
  let calls = 0;
  await poll(clock, async () => {
    await clock.sleep(100); // the request's round trip
    return ++calls === 3 ? { done: true as const, value: 1 } : { done: false as const };
  }, { timeoutMs: 60_000, schedule: () => 250 });
  assertEquals(clock.sleeps, [100, 150, 100, 150, 100]);
});

Deno.test("poll: a check that hangs past the timeout is cut off (told to stop) and the wait answers not done", async () => {
  let clock = 0;
  const ctx = {
    now: () => clock,
    sleep: (ms: number) => {
      clock += ms;
      return Promise.resolve();
    },
  };
  let told: unknown;
  const hang = (deadline: AbortSignal) =>
    new Promise<never>((_, reject) =>
      deadline.addEventListener("abort", () => {
        told = deadline.reason;
        reject(deadline.reason);
      })
    );
  const started = performance.now();
  const r = await poll(ctx, hang, { timeoutMs: 50, schedule: commandSchedule });
  assertEquals(r.done, false);
  assert(performance.now() - started < 2_000, "the wait outlived its timeout");
  assertEquals((told as DOMException).name, "TimeoutError");

  // A check that ignores the signal is abandoned all the same.
  let finish!: () => void;
  const stubborn = () =>
    new Promise<{ done: true; value: number }>((res) => finish = () => res({ done: true, value: 1 }));
  const r2 = await poll(ctx, stubborn, { timeoutMs: 30, schedule: commandSchedule });
  assertEquals(r2.done, false);
  finish();
});

Deno.test("poll: Ctrl-C during a check still rejects (it is not a timeout)", async () => {
  const ctx = { now: () => 0, sleep: () => Promise.resolve() };
  const interrupt = new AbortController();
  const check = (signal: AbortSignal) =>
    new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
  setTimeout(() => interrupt.abort(new DOMException("interrupted", "AbortError")), 10);
  let caught: unknown;
  try {
    await poll(ctx, check, { timeoutMs: 60_000, schedule: commandSchedule, signal: interrupt.signal });
  } catch (e) {
    caught = e;
  }
  assertEquals((caught as DOMException).name, "AbortError");
});
