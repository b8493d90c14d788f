// The one polling helper. Every long wait in dbxr (a cluster starting, a command running, a job run)
// goes through poll(), with a schedule chosen for what is awaited. The schedules are pure functions
// so that their request counts and overheads can be checked without a server.

import type { Ctx } from "./ctx.ts";

/** Delay before the next poll, given how long we have been waiting. */
export type Schedule = (elapsedMs: number) => number;

/**
 * For commands: a poll every 50 ms for the first second, where most of an agent's commands end (so that
 * `dbxr exec` of a short command answers about as soon as a fixed 50 ms poll would: issue 9 §3), then
 * backing off so that commands up to 6 s return within ~150 ms of finishing and a 600 s command costs under
 * 200 status requests and under 5 s of overhead (the targets in BENCHMARKS.md). Past the first second the
 * delay is a fraction of the time already waited, capped per phase: overhead stays proportional to the
 * wait, request count grows only logarithmically.
 */
export const commandSchedule: Schedule = (elapsedMs) => {
  if (elapsedMs < 1_000) return 50;
  if (elapsedMs < 6_000) return clamp(elapsedMs * 0.3, 50, 150);
  return clamp(elapsedMs * 0.15, 150, 5_000);
};

/** For clusters and job runs, which take minutes: 1 s, growing to 10 s. */
export const slowSchedule: Schedule = (elapsedMs) => clamp(1_000 + elapsedMs * 0.1, 1_000, 10_000);

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

export type PollStep<T> = { done: true; value: T } | { done: false; progress?: string };

export type PollOutcome<T> =
  | { done: true; value: T; elapsedMs: number; polls: number }
  | { done: false; elapsedMs: number; polls: number };

export interface PollOptions {
  timeoutMs: number;
  schedule: Schedule;
  signal?: AbortSignal;
  /** Called with a progress text whenever it changes (e.g. a new cluster state). */
  onProgress?: (text: string, elapsedMs: number) => void;
  /** Called after every check that is not done, with its progress text and the time since the origin. */
  onPoll?: (text: string | undefined, elapsedMs: number) => void;
  /** Clock origin, when the wait started before this call (await of an earlier exec). */
  startedAt?: number;
}

/**
 * Calls check() until it reports done or the timeout passes. The first check happens at once.
 * A timeout is an outcome, not an error: callers decide what "still running" means.
 * An aborted signal rejects with its reason.
 *
 * The timeout holds even when one check hangs (a status request that takes 15 s against a 3 s
 * --timeout): check gets a signal that aborts at the deadline, and poll answers "not done" then without
 * waiting for it. A check that throws after the deadline has passed counts as "not done" as well.
 */
export async function poll<T>(
  ctx: Pick<Ctx, "now" | "sleep">,
  check: (deadline: AbortSignal) => Promise<PollStep<T>>,
  opts: PollOptions,
): Promise<PollOutcome<T>> {
  const start = ctx.now();
  const origin = opts.startedAt ?? start;
  let polls = 0;
  let lastProgress: string | undefined;
  while (true) {
    opts.signal?.throwIfAborted();
    polls++;
    const asked = ctx.now();
    const step = await checkBefore(check, start + opts.timeoutMs - asked, opts.signal);
    const now = ctx.now();
    if (step === EXPIRED) return { done: false, elapsedMs: now - start, polls };
    if (step.done) return { done: true, value: step.value, elapsedMs: now - start, polls };
    if (step.progress !== undefined && step.progress !== lastProgress) {
      lastProgress = step.progress;
      opts.onProgress?.(step.progress, now - start);
    }
    opts.onPoll?.(step.progress, now - origin);
    const left = start + opts.timeoutMs - now;
    if (left <= 0) return { done: false, elapsedMs: now - start, polls };
    // The schedule is a cadence between requests: the time the request itself took counts toward the
    // delay, so that a slow round trip does not add to the time between a command ending and our noticing.
    const delay = Math.max(0, opts.schedule(now - origin) - (now - asked));
    await ctx.sleep(Math.min(delay, left), opts.signal);
  }
}

const EXPIRED = Symbol("expired");
const MAX_TIMER_MS = 2_147_483_647;

/**
 * One check, cut off after leftMs of real time. A real timer, not ctx.sleep: test clocks advance when
 * slept on, which would expire every check at once. AbortSignal.timeout rather than setTimeout: Deno's
 * first setTimeout costs 5-10 ms of lazy start-up, which would delay an exec's first status request (and
 * with it the answer to a short command); the listener keeps the process alive until the check is over.
 */
async function checkBefore<T>(
  check: (deadline: AbortSignal) => Promise<PollStep<T>>,
  leftMs: number,
  signal: AbortSignal | undefined,
): Promise<PollStep<T> | typeof EXPIRED> {
  // Timers overflow past 2^31-1 ms (to 1 ms): a huge --timeout must not expire every check at once.
  const deadline = AbortSignal.timeout(Math.min(MAX_TIMER_MS, Math.max(0, leftMs)));
  let onExpired = () => {};
  const expired = new Promise<typeof EXPIRED>((resolve) => {
    onExpired = () => resolve(EXPIRED);
    deadline.addEventListener("abort", onExpired, { once: true });
  });
  const running = check(signal ? AbortSignal.any([signal, deadline]) : deadline);
  try {
    return await Promise.race([running, expired]);
  } catch (e) {
    if (deadline.aborted && !signal?.aborted) return EXPIRED;
    throw e;
  } finally {
    deadline.removeEventListener("abort", onExpired);
    // Whatever the abandoned check does later (it was told to stop) is no longer anyone's business.
    running.catch(() => {});
  }
}
