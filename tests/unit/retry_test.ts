import {
  type AttemptOutcome,
  backoffMs,
  decideRetry,
  DEFAULT_RETRY_POLICY,
  isTransientMessage,
  parseRetryAfter,
  type RetryInput,
  type RetryPolicy,
} from "../../src/api/retry.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const POLICY: RetryPolicy = {
  maxAttempts: 5,
  budgetMs: 30_000,
  baseMs: 500,
  capMs: 8_000,
  retryAfterCapMs: 20_000,
  refusedBudgetMs: 2_000,
};
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

function decide(
  outcome: AttemptOutcome,
  over: Partial<RetryInput> = {},
  random = () => 0,
  policy = POLICY,
) {
  return decideRetry(
    { attempt: 1, elapsedMs: 0, method: "GET", idempotent: false, outcome, nowMs: NOW, ...over },
    policy,
    random,
  );
}

const http = (
  status: number,
  extra: Partial<Extract<AttemptOutcome, { kind: "http" }>> = {},
): AttemptOutcome => ({
  kind: "http",
  status,
  ...extra,
});

Deno.test("retry: 429 and 503 are retried for any method", () => {
  for (const status of [429, 503]) {
    for (const method of ["GET", "POST"]) {
      const d = decide(http(status), { method });
      assert(d.retry, `${method} ${status}`);
    }
  }
});

Deno.test("retry: Retry-After in seconds is honoured (plus up to 250 ms of jitter)", () => {
  assertEquals(decide(http(429, { retryAfter: "3" }), {}, () => 0), {
    retry: true,
    delayMs: 3000,
    reason: "HTTP 429",
  });
  assertEquals(decide(http(503, { retryAfter: "3" }), {}, () => 1), {
    retry: true,
    delayMs: 3250,
    reason: "HTTP 503",
  });
});

Deno.test("retry: Retry-After as an HTTP date", () => {
  const date = new Date(NOW + 7000).toUTCString();
  const d = decide(http(429, { retryAfter: date }));
  assertEquals(d.retry && d.delayMs, 7000);
});

Deno.test("retry: Retry-After is capped", () => {
  const d = decide(http(429, { retryAfter: "3600" }));
  assertEquals(d.retry && d.delayMs, 20_000);
});

Deno.test("retry: 429/503 without Retry-After wait at least a second", () => {
  const d = decide(http(429), { attempt: 1 }, () => 0);
  assertEquals(d.retry && d.delayMs, 1000);
  const later = decide(http(503), { attempt: 4 }, () => 1);
  assertEquals(later.retry && later.delayMs, 4000);
});

Deno.test("retry: transient messages are retried whatever the status, even for POST", () => {
  const messages = [
    "com.databricks.backend.manager.util.UnknownWorkerEnvironmentException: Unknown worker environment WorkerEnvId(workerenv-1)",
    "ClusterNotReadyException: cluster 0101 is not ready",
    "Current organization 123 does not have any associated worker environments",
    "There is no worker environment with id 42",
    "worker env workerenv-9 not found",
    "Timed out after 60 seconds",
    "context deadline exceeded",
    "Please try again later or try a faster operation.",
    "RPC token bucket limit has been exceeded",
  ];
  for (const message of messages) {
    for (const status of [400, 500]) {
      const d = decide(http(status, { message }), { method: "POST" });
      assert(d.retry, `${status} ${message}`);
    }
  }
  assert(decide(http(400, { errorCode: "REQUEST_LIMIT_EXCEEDED", message: "too many clusters" })).retry);
});

Deno.test("retry: other 4xx and plain 500 are never retried", () => {
  for (const status of [400, 401, 403, 404, 409, 500, 501]) {
    assertEquals(
      decide(http(status, { message: "Internal error", errorCode: "INTERNAL_ERROR" })).retry,
      false,
      `${status}`,
    );
  }
  assertEquals(decide(http(200)).retry, false);
});

Deno.test("retry: connection refused is retried for any method (nothing reached the server)", () => {
  const d = decide({ kind: "network", phase: "connect", error: "Connection refused" }, { method: "POST" });
  assert(d.retry);
});

Deno.test("retry: a refused connection is retried for about 2 s only, not the whole budget", () => {
  const refused: AttemptOutcome = {
    kind: "network",
    phase: "connect",
    error: "Connection refused (os error 111)",
  };
  let clock = 0;
  let attempt = 1;
  for (;; attempt++) {
    const d = decideRetry(
      { attempt, elapsedMs: clock, method: "GET", idempotent: true, outcome: refused },
      DEFAULT_RETRY_POLICY,
      () => 1,
    );
    if (!d.retry) break;
    clock += d.delayMs;
  }
  assert(clock <= 2_000, `${clock} ms`);
  assert(attempt >= 2 && attempt <= 4, `${attempt} attempts`);
  // Other connect failures (a reset before the request went out) keep the normal budget.
  const reset: AttemptOutcome = { kind: "network", phase: "connect", error: "tcp connect error: reset" };
  assert(
    decideRetry(
      { attempt: 3, elapsedMs: 5_000, method: "GET", idempotent: true, outcome: reset },
      DEFAULT_RETRY_POLICY,
      () => 1,
    ).retry,
  );
});

Deno.test("retry: after sending, only idempotent requests are retried", () => {
  const sent: AttemptOutcome = { kind: "network", phase: "sent", error: "connection reset" };
  assert(decide(sent, { method: "GET" }).retry, "GET");
  assert(decide(sent, { method: "HEAD" }).retry, "HEAD");
  assertEquals(decide(sent, { method: "POST" }).retry, false, "POST");
  assert(decide(sent, { method: "POST", idempotent: true }).retry, "POST marked idempotent");
});

Deno.test("retry: DNS and certificate failures are not retried", () => {
  for (
    const error of [
      "dns error: failed to lookup address information",
      "invalid peer certificate: UnknownIssuer",
    ]
  ) {
    assertEquals(decide({ kind: "network", phase: "connect", error }).retry, false, error);
  }
});

Deno.test("retry: bounded by attempts", () => {
  const outcome = http(503);
  assert(decide(outcome, { attempt: 4 }).retry);
  const d = decide(outcome, { attempt: 5 });
  assertEquals(d.retry, false);
  assertEquals(!d.retry && d.reason, "gave up after 5 attempts");
});

Deno.test("retry: bounded by total time: a wait that would pass the budget stops", () => {
  assert(decide(http(429, { retryAfter: "5" }), { elapsedMs: 25_000 }).retry);
  const d = decide(http(429, { retryAfter: "5" }), { elapsedMs: 25_001 }, () => 0.01);
  assertEquals(d.retry, false);
  assertEquals(!d.retry && d.reason, "retry budget of 30 s spent");
});

Deno.test("retry: exponential backoff with half jitter, capped", () => {
  const p = POLICY;
  assertEquals([1, 2, 3, 4, 5, 6, 7].map((a) => backoffMs(a, p, () => 1)), [
    500,
    1000,
    2000,
    4000,
    8000,
    8000,
    8000,
  ]);
  assertEquals([1, 2, 3].map((a) => backoffMs(a, p, () => 0)), [250, 500, 1000]);
  const d = decide({ kind: "network", phase: "connect", error: "refused" }, { attempt: 2 }, () => 0.5);
  assertEquals(d.retry && d.delayMs, 750);
});

Deno.test("retry: a run of retries on a fake clock stays within the defaults", () => {
  let clock = 0;
  const delays: number[] = [];
  let attempt = 1;
  for (;; attempt++) {
    const d = decideRetry(
      { attempt, elapsedMs: clock, method: "GET", idempotent: true, outcome: http(503) },
      DEFAULT_RETRY_POLICY,
      () => 1,
    );
    if (!d.retry) break;
    delays.push(d.delayMs);
    clock += d.delayMs;
  }
  assertEquals(delays, [1000, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  assertEquals(attempt, DEFAULT_RETRY_POLICY.maxAttempts);
  assert(clock <= DEFAULT_RETRY_POLICY.budgetMs);
});

Deno.test("retry: parseRetryAfter", () => {
  assertEquals(parseRetryAfter("2"), 2000);
  assertEquals(parseRetryAfter(" 1.5 "), 1500);
  assertEquals(parseRetryAfter(null), undefined);
  assertEquals(parseRetryAfter("soon", NOW), undefined);
  assertEquals(parseRetryAfter(new Date(NOW - 5000).toUTCString(), NOW), 0);
});

Deno.test("retry: isTransientMessage", () => {
  assert(isTransientMessage("Error: ClusterNotReadyException"));
  assertEquals(isTransientMessage("Cluster 0101 does not exist"), false);
  assertEquals(isTransientMessage(undefined), false);
});
