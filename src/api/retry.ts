// The retry policy of the HTTP client, as a pure function: what the official SDKs retry
// (docs/databricks-behaviour.md §1.3), bounded by attempts and by total time. http.ts supplies the clock, the
// sleep and the dice.

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Total time for one logical request, retries and waits included; a wait that would pass it stops. */
  budgetMs: number;
  /** Backoff before the second attempt (before jitter). */
  baseMs: number;
  /** Largest backoff. */
  capMs: number;
  /** Largest wait that a Retry-After header may ask for. */
  retryAfterCapMs: number;
  /**
   * Total time for retrying a refused connection. Nothing listens there (a stopped emulator, a wrong host or
   * port): a blip clears in a second, an outage does not, so say so within ~2 s instead of a minute.
   */
  refusedBudgetMs: number;
}

/**
 * About one minute in all: long enough to ride out a 429 burst or a cluster's "not ready yet" window, short
 * enough that a script learns of an outage within its own timeouts (the SDKs' 5 minutes is too long for a CLI).
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  budgetMs: 60_000,
  baseMs: 500,
  capMs: 10_000,
  retryAfterCapMs: 30_000,
  refusedBudgetMs: 2_000,
};

const REFUSED = /connection refused|ECONNREFUSED|os error 111|os error 10061/i;

export type AttemptOutcome =
  | { kind: "http"; status: number; errorCode?: string; message?: string; retryAfter?: string | null }
  /** connect: the request never reached the server; sent: it may have (reset, timeout, body read failure). */
  | { kind: "network"; phase: "connect" | "sent"; error: string };

export interface RetryInput {
  /** Attempts made so far (1 after the first). */
  attempt: number;
  /** Time since the first attempt began. */
  elapsedMs: number;
  method: string;
  /** The caller says a repeat is harmless (GET/HEAD always are). */
  idempotent: boolean;
  outcome: AttemptOutcome;
  /** Epoch ms, to read a Retry-After given as an HTTP date. */
  nowMs?: number;
}

export type RetryDecision = { retry: false; reason?: string } | {
  retry: true;
  delayMs: number;
  reason: string;
};

/** Messages that the SDKs treat as transient whatever the status (docs/databricks-behaviour.md §1.3). */
const TRANSIENT_MESSAGES: Array<string | RegExp> = [
  "com.databricks.backend.manager.util.UnknownWorkerEnvironmentException",
  "UnknownWorkerEnvironmentException",
  "does not have any associated worker environments",
  "There is no worker environment with id",
  "Unknown worker environment",
  "ClusterNotReadyException",
  /worker env .* not found/,
  "Timed out after ",
  "deadline exceeded",
  "Please try again later or try a faster operation.",
  "RPC token bucket limit has been exceeded",
  "REQUEST_LIMIT_EXCEEDED",
];

/** Failures that a repeat cannot fix: a name that does not resolve, a certificate that is not trusted. */
const PERMANENT_NETWORK =
  /dns error|failed to lookup|name or service not known|no such host|certificate|UnknownIssuer|invalid peer/i;

export function isTransientMessage(text: string | undefined): boolean {
  if (!text) return false;
  return TRANSIENT_MESSAGES.some((m) => typeof m === "string" ? text.includes(m) : m.test(text));
}

export function isIdempotentMethod(method: string): boolean {
  const m = method.toUpperCase();
  return m === "GET" || m === "HEAD" || m === "OPTIONS";
}

/**
 * Exponential backoff with half jitter: min(cap, base * 2^(attempt-1)) scaled by 0.5..1. Chosen over the
 * SDKs' linear 1 s, 2 s, 3 s… because the common blip (a dropped connection, one 503) clears in well under a
 * second, so the first retries come quickly, while the doubling still backs off a struggling server fast;
 * the jitter keeps a hundred agent sessions from retrying in lockstep.
 */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.5 + 0.5 * clamp01(random())));
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs?: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(parseFloat(v) * 1000);
  if (nowMs === undefined) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - nowMs);
}

export function decideRetry(input: RetryInput, policy: RetryPolicy, random: () => number): RetryDecision {
  const why = retryReason(input);
  if (!why) return { retry: false };
  if (input.attempt >= policy.maxAttempts) {
    return { retry: false, reason: `gave up after ${input.attempt} attempts` };
  }

  let delayMs: number;
  const o = input.outcome;
  const asked = o.kind === "http" ? parseRetryAfter(o.retryAfter, input.nowMs) : undefined;
  if (asked !== undefined) {
    // Honour the server, with a little jitter on top (as the Python SDK) so that clients spread out.
    delayMs = Math.min(asked, policy.retryAfterCapMs) + Math.round(250 * clamp01(random()));
  } else if (o.kind === "http" && (o.status === 429 || o.status === 503)) {
    // Throttled without a hint: at least a second, as the SDKs wait.
    delayMs = Math.max(1000, backoffMs(input.attempt, policy, random));
  } else {
    delayMs = backoffMs(input.attempt, policy, random);
  }
  const budgetMs = o.kind === "network" && o.phase === "connect" && REFUSED.test(o.error)
    ? Math.min(policy.budgetMs, policy.refusedBudgetMs)
    : policy.budgetMs;
  if (input.elapsedMs + delayMs > budgetMs) {
    return { retry: false, reason: `retry budget of ${Math.round(budgetMs / 1000)} s spent` };
  }
  return { retry: true, delayMs, reason: why };
}

/** Why this outcome may be retried, or undefined when it may not. */
function retryReason(input: RetryInput): string | undefined {
  const o = input.outcome;
  if (o.kind === "network") {
    if (PERMANENT_NETWORK.test(o.error)) return undefined;
    // Refused: nothing reached the server, so even a POST is safe to repeat.
    if (o.phase === "connect") return `connection failed: ${o.error}`;
    // The server may have acted on it: repeat only what is harmless to repeat.
    return input.idempotent || isIdempotentMethod(input.method) ? `network error: ${o.error}` : undefined;
  }
  // 429 and 503 mean the server turned the request away before doing anything.
  if (o.status === 429 || o.status === 503) return `HTTP ${o.status}`;
  if (o.status >= 400 && (isTransientMessage(o.message) || isTransientMessage(o.errorCode))) {
    return `transient error: ${o.errorCode ?? o.status}`;
  }
  return undefined;
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0.5;
}
