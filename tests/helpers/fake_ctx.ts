// A fake Ctx for unit tests: env and files from maps, a scripted fetch and run, a clock that only moves
// when something sleeps (or the test advances it), pinned randomness, and captured stdout/stderr.

import type { CommandResult, Ctx } from "../../src/ctx.ts";
import { Output } from "../../src/output.ts";

export type FetchHandler = (req: Request) => Response | Promise<Response>;
export type RunHandler = (cmd: string, args: string[]) => CommandResult | Promise<CommandResult>;

export interface FakeCtxOptions {
  /** Environment variables; anything absent reads as undefined. */
  env?: Record<string, string | undefined>;
  /** Standard input, for ctx.readStdin. */
  stdin?: string;
  /** Files by path, for ctx.readTextFile; a missing path reads as undefined. */
  files?: Record<string, string>;
  /** Answers ctx.fetch; without one, any request fails the test. */
  fetch?: FetchHandler;
  /** Answers ctx.run; without one, ctx.run throws NotFound (no such program), as when it is not installed. */
  run?: RunHandler;
  stdoutIsTty?: boolean;
  stderrIsTty?: boolean;
  /** Start of the fake clock, epoch ms (default 2026-01-01T00:00:00Z). */
  now?: number;
  /** Values for ctx.random, used in turn and repeated from the start; default always 0.5. */
  random?: number[];
  /** Turn on ctx.out.debugEnabled (as --debug does). */
  debug?: boolean;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface FakeCtx {
  ctx: Ctx;
  stdout(): string;
  stderr(): string;
  /** Every ms passed to ctx.sleep, in order. */
  sleeps: number[];
  /** Every request passed to ctx.fetch, with its body read. */
  requests: RecordedRequest[];
  /** Every ctx.writeTextFile call, with the mode it asked for. */
  writes: Array<{ path: string; mode?: number }>;
  /** Every ctx.run call. */
  runs: Array<{ cmd: string; args: string[] }>;
  /** Moves the clock forward. */
  advance(ms: number): void;
  /** Aborts ctx.signal, as Ctrl-C does. */
  abort(reason?: unknown): void;
  /** The env and files behind ctx; tests may change them mid-test. */
  env: Record<string, string | undefined>;
  files: Record<string, string>;
}

export const FAKE_EPOCH = Date.UTC(2026, 0, 1);

export function fakeCtx(opts: FakeCtxOptions = {}): FakeCtx {
  let out = "";
  let err = "";
  let clock = opts.now ?? FAKE_EPOCH;
  let randomIndex = 0;
  const sleeps: number[] = [];
  const requests: RecordedRequest[] = [];
  const runs: Array<{ cmd: string; args: string[] }> = [];
  const writes: Array<{ path: string; mode?: number }> = [];
  const env: Record<string, string | undefined> = { ...opts.env };
  const files: Record<string, string> = { ...opts.files };
  const interrupt = new AbortController();

  const output = new Output({
    stdout: (t) => out += t,
    stderr: (t) => err += t,
    stdoutIsTty: opts.stdoutIsTty ?? false,
    stderrIsTty: opts.stderrIsTty ?? false,
    envFormat: env.DBXR_OUTPUT,
  });
  output.debugEnabled = opts.debug ?? false;

  const ctx: Ctx = {
    env: (name) => env[name],
    async fetch(req) {
      const body = req.body ? await req.clone().text() : "";
      requests.push({ method: req.method, url: req.url, headers: Object.fromEntries(req.headers), body });
      if (!opts.fetch) throw new Error(`unexpected request in test: ${req.method} ${req.url}`);
      return await opts.fetch(req);
    },
    now: () => clock,
    sleep(ms, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      sleeps.push(ms);
      clock += Math.max(0, ms);
      return Promise.resolve();
    },
    readTextFile: (path) => Promise.resolve(files[path]),
    writeTextFile(path, text, o) {
      writes.push({ path, ...(o?.mode !== undefined ? { mode: o.mode } : {}) });
      files[path] = text;
      return Promise.resolve();
    },
    readStdin: () => Promise.resolve(opts.stdin ?? ""),
    async run(cmd, args) {
      runs.push({ cmd, args });
      if (!opts.run) throw new Deno.errors.NotFound(`Failed to spawn '${cmd}': entity not found`);
      return await opts.run(cmd, args);
    },
    signal: interrupt.signal,
    random() {
      const r = opts.random;
      if (!r || r.length === 0) return 0.5;
      return r[randomIndex++ % r.length];
    },
    stdoutIsTty: opts.stdoutIsTty ?? false,
    stderrIsTty: opts.stderrIsTty ?? false,
    out: output,
  };

  return {
    ctx,
    stdout: () => out,
    stderr: () => err,
    sleeps,
    requests,
    runs,
    writes,
    advance(ms) {
      clock += ms;
    },
    abort(reason) {
      interrupt.abort(reason ?? new DOMException("interrupted by SIGINT", "AbortError"));
    },
    env,
    files,
  };
}

/** A JSON response, for fetch handlers. */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/**
 * A fetch handler that answers from a script, in order, and fails on a request past its end. Each step is a
 * Response, a function of the request, or an Error to throw (a network failure).
 */
export function scriptedFetch(
  steps: Array<Response | Error | ((req: Request) => Response | Promise<Response>)>,
): FetchHandler & { remaining(): number } {
  let i = 0;
  const handler = (req: Request) => {
    if (i >= steps.length) {
      throw new Error(`no scripted response for request ${i + 1}: ${req.method} ${req.url}`);
    }
    const step = steps[i++];
    if (step instanceof Error) throw step;
    return typeof step === "function" ? step(req) : step;
  };
  return Object.assign(handler, { remaining: () => steps.length - i });
}

/** A response whose body fails part-way, as when the connection drops after the status line. */
export function brokenBodyResponse(status = 200, partial = '{"clusters": ['): Response {
  let sent = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(new TextEncoder().encode(partial));
      } else {
        controller.error(new TypeError("error reading a body from connection"));
      }
    },
  });
  return new Response(stream, { status, headers: { "content-type": "application/json" } });
}

/** The error Deno's fetch throws when nothing listens on the port. */
export function connectionRefused(url = "http://127.0.0.1:1/"): TypeError {
  return new TypeError("fetch failed", {
    cause: new Error(
      `error sending request for url (${url}): client error (Connect): tcp connect error: Connection refused (os error 111)`,
    ),
  });
}

/** The error Deno's fetch throws when the server drops the connection after the request was sent. */
export function connectionReset(url = "http://127.0.0.1:1/"): TypeError {
  return new TypeError("fetch failed", {
    cause: new Error(
      `error sending request for url (${url}): client error (SendRequest): connection closed before message completed`,
    ),
  });
}
