// The one fetch wrapper (ARCHITECTURE.md): URL and query building, the auth
// header, User-Agent, per-request timeouts, retries (retry.ts), one credential refresh on 401, the mapping
// of every error body shape to DbxrError, and --debug traces with secrets redacted (redact.ts).

import type { Ctx } from "../ctx.ts";
import { DbxrError, type ErrorCode } from "../errors.ts";
import { VERSION } from "../version.ts";
import { mark } from "../trace.ts";
import { describeHint } from "./config.ts";
import { type JsonRead, readJsonStream } from "./json_stream.ts";
import { redactForTrace, redactText } from "./redact.ts";
import {
  type AttemptOutcome,
  decideRetry,
  DEFAULT_RETRY_POLICY,
  isIdempotentMethod,
  type RetryPolicy,
} from "./retry.ts";

export const DEFAULT_TIMEOUT_MS = 60_000;
/** How much of each body a --debug trace shows. */
const TRACE_BODY_CHARS = 2048;

// ---------------------------------------------------------------------------------------------------------
// The transport: one logical request with retries, tracing and timeouts; no auth, no error mapping.

export interface SendRequest {
  method: string;
  /** Absolute URL. */
  url: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
  /** POSTs the caller knows to be harmless to repeat; GET and HEAD always are. */
  idempotent?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Not bound to ctx.signal: for the clean-up after a Ctrl-C (cancelling the remote command), which must
   * still reach the server although the command as a whole was interrupted.
   */
  detached?: boolean;
  /**
   * "bytes" keeps the body as bytes (file downloads); the default reads text. "json" reads text too, but a
   * large or unsized successful body is parsed as it arrives (json_stream.ts: RawResponse.json), never
   * held whole.
   */
  responseType?: "text" | "bytes" | "json";
  /** For "json": key paths of strings kept as UTF-8 bytes (JsonStreamOptions.bytesAt). */
  bytesAt?: readonly (readonly string[])[];
  /** Known secret values (the token in use) to blank out of traces. */
  secrets?: string[];
}

export interface RawResponse {
  status: number;
  statusText: string;
  headers: Headers;
  /** The body as text ("" when responseType is "bytes", or when json holds it). */
  text: string;
  bytes?: Uint8Array;
  /** A successful body of LARGE_JSON_BYTES or more, or of unknown size, for responseType "json": parsed. */
  json?: JsonRead;
  url: string;
  attempts: number;
}

/** Sends one logical request; resolves with the last response, even an error status, once retries are spent. */
export type Send = (req: SendRequest) => Promise<RawResponse>;

export interface TransportOptions {
  userAgent: string;
  /** Per attempt, body read included (default 60 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

type AttemptResult =
  | { kind: "response"; response: RawResponse }
  | { kind: "network"; phase: "connect" | "sent"; error: string; timedOut: boolean };

export function createSend(ctx: Ctx, opts: TransportOptions): Send {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
  const defaultTimeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return async function send(req: SendRequest): Promise<RawResponse> {
    const started = ctx.now();
    const base = req.detached ? new AbortController().signal : ctx.signal;
    const outer = req.signal ? AbortSignal.any([base, req.signal]) : base;
    const idempotent = req.idempotent ?? isIdempotentMethod(req.method);
    for (let attempt = 1;; attempt++) {
      if (outer.aborted) throw outer.reason;
      const result = await attemptOnce(
        ctx,
        req,
        attempt,
        outer,
        opts.userAgent,
        req.timeoutMs ?? defaultTimeout,
      );
      let outcome: AttemptOutcome;
      if (result.kind === "response") {
        const res = result.response;
        res.attempts = attempt;
        if (res.status < 400) return res;
        const parsed = parseErrorBody(res.status, res.statusText, res.text);
        outcome = {
          kind: "http",
          status: res.status,
          errorCode: parsed.errorCode,
          message: parsed.message,
          retryAfter: res.headers.get("retry-after"),
        };
      } else {
        outcome = { kind: "network", phase: result.phase, error: result.error };
      }
      const decision = decideRetry(
        {
          attempt,
          elapsedMs: ctx.now() - started,
          method: req.method,
          idempotent,
          outcome,
          nowMs: ctx.now(),
        },
        policy,
        () => ctx.random(),
      );
      if (!decision.retry) {
        if (result.kind === "response") return result.response;
        throw networkError(req, result, attempt, idempotent, decision.reason);
      }
      trace(ctx, () => `retrying in ${decision.delayMs} ms (${redactText(decision.reason)})`);
      await ctx.sleep(decision.delayMs, outer);
    }
  };
}

async function attemptOnce(
  ctx: Ctx,
  req: SendRequest,
  attempt: number,
  outer: AbortSignal,
  userAgent: string,
  timeoutMs: number,
): Promise<AttemptResult> {
  const url = new URL(req.url);
  const secrets = req.secrets ?? [];
  // A real timer, not ctx.sleep: a fake clock must not time requests out. AbortSignal.timeout, not
  // setTimeout: Deno's first setTimeout costs 5-10 ms of lazy start-up, which would land on `dbxr exec`'s
  // submit (BENCHMARKS.md); this timer does not keep the process alive, and the request it bounds does.
  const timeoutSignal = AbortSignal.timeout(Math.min(timeoutMs, MAX_TIMER_MS));
  const signal = AbortSignal.any([outer, timeoutSignal]);
  const headers = new Headers({ "User-Agent": userAgent, Accept: "application/json", ...req.headers });
  const began = ctx.now();
  mark(`http:${req.method} ${url.pathname}`);
  trace(ctx, () => {
    const line = `> ${req.method} ${redactText(url.pathname + url.search, secrets)}` +
      (attempt > 1 ? ` (attempt ${attempt})` : "");
    return req.body === undefined ? line : `${line}\n> ${traceBody(req.body, secrets)}`;
  });
  let res: Response;
  try {
    res = await ctx.fetch(new Request(url, { method: req.method, headers, body: req.body, signal }));
  } catch (e) {
    if (outer.aborted) throw outer.reason;
    if (isNotCapable(e)) throw hostNotAllowed(url, e);
    return classifyNetworkError(e, timeoutSignal.aborted, timeoutMs);
  }
  // Reading the body is part of the attempt: a dropped connection can surface here, after a 200.
  let text = "";
  let bytes: Uint8Array | undefined;
  let json: JsonRead | undefined;
  let jsonHead: { head: Uint8Array; total: number } | undefined;
  try {
    if (req.responseType === "bytes") bytes = new Uint8Array(await res.arrayBuffer());
    else if (req.responseType === "json" && res.status < 400 && !knownSmall(res)) {
      json = await readJsonStream(res.body, {
        bytesAt: req.bytesAt,
        headBytes: TRACE_BODY_CHARS * 4,
        onHead: (head, total) => jsonHead = { head, total },
      });
    } else text = utf8.decode(await bodyBytes(res));
  } catch (e) {
    if (outer.aborted) throw outer.reason;
    const r = classifyNetworkError(e, timeoutSignal.aborted, timeoutMs);
    return { ...r, phase: "sent", error: `error reading the response body: ${r.error}` };
  }
  mark(`http:${res.status}`);
  const response: RawResponse = {
    status: res.status,
    statusText: res.statusText || STATUS_TEXT[res.status] || "",
    headers: res.headers,
    text,
    bytes,
    ...(json ? { json } : {}),
    url: url.toString(),
    attempts: attempt,
  };
  trace(ctx, () => {
    const ids = ["x-request-id", "x-databricks-org-id"]
      .flatMap((h) => res.headers.get(h) ? [`${h}=${res.headers.get(h)}`] : []);
    const head = `< ${res.status} ${response.statusText} ${ctx.now() - began} ms${
      ids.length ? " " + ids.join(" ") : ""
    }`;
    const body = bytes
      ? `<${bytes.length} bytes>`
      : jsonHead
      ? headForTrace(jsonHead.head, jsonHead.total, secrets)
      : text === ""
      ? ""
      : redactForTrace(text, TRACE_BODY_CHARS, secrets);
    return body ? `${head}\n< ${body}` : head;
  });
  return { kind: "response", response };
}

/** Timers overflow past 2^31-1 ms (and then fire at once). */
const MAX_TIMER_MS = 2_147_483_647;

/** From this size on (or of unknown size), a JSON body is parsed as it arrives (json_stream.ts). */
export const LARGE_JSON_BYTES = 1024 * 1024;

/** A body that fetch hands over as it came, declared smaller than LARGE_JSON_BYTES: decoded whole. */
function knownSmall(res: Response): boolean {
  if (res.headers.get("content-encoding")) return false; // fetch inflates it: its real size is unknown
  const declared = Number(res.headers.get("content-length") ?? NaN);
  return Number.isSafeInteger(declared) && declared < LARGE_JSON_BYTES;
}

const utf8 = new TextDecoder();

/**
 * The body's bytes in one buffer, sized from Content-Length when the body is not compressed (fetch
 * inflates it), else grown. Read with a BYOB reader, so that the network reads land in that buffer:
 * Response.text() holds every chunk (until a garbage collection that a small heap does not run), their
 * concatenation and the decoded text, three copies of a 20 MiB command output.
 */
async function bodyBytes(res: Response): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array();
  const declared = res.headers.get("content-encoding") ? NaN : Number(res.headers.get("content-length"));
  let buf = new Uint8Array(Number.isSafeInteger(declared) && declared >= 0 ? declared + 1 : 64 * 1024);
  let len = 0;
  let reader: ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = res.body.getReader({ mode: "byob" });
  } catch {
    reader = res.body.getReader(); // not a byte stream (a test's Response): chunks, copied
  }
  while (true) {
    if (len === buf.length) {
      const grown = new Uint8Array(buf.length * 2);
      grown.set(buf);
      buf = grown;
    }
    const { done, value } = reader instanceof ReadableStreamBYOBReader
      ? await reader.read(buf.subarray(len))
      : await reader.read();
    if (value && reader instanceof ReadableStreamBYOBReader) {
      // The read moved the buffer into the view it answers with (zero-copy transfer).
      buf = new Uint8Array(value.buffer as ArrayBuffer);
      len += value.byteLength;
    } else if (value) {
      if (len + value.length > buf.length) {
        const grown = new Uint8Array(Math.max(buf.length * 2, len + value.length));
        grown.set(buf.subarray(0, len));
        buf = grown;
      }
      buf.set(value, len);
      len += value.length;
    }
    if (done) break;
  }
  return buf.subarray(0, len);
}

function classifyNetworkError(
  e: unknown,
  timedOut: boolean,
  timeoutMs: number,
): Extract<AttemptResult, { kind: "network" }> {
  if (timedOut) {
    return { kind: "network", phase: "sent", error: `timed out after ${timeoutMs} ms`, timedOut: true };
  }
  const err = e as { message?: string; cause?: { message?: string } };
  // Deno reports "fetch failed" and puts the detail in cause.
  const detail = [err?.message, err?.cause?.message].filter((m) => m && m !== "fetch failed").join(": ") ||
    String(err?.message ?? e);
  // Refusals and DNS failures happen before anything is sent; the rest may have reached the server.
  const neverSent = /\(Connect\)|connection refused|ECONNREFUSED|tcp connect error|dns error|are blocked/i
    .test(detail);
  return { kind: "network", phase: neverSent ? "connect" : "sent", error: detail, timedOut: false };
}

function isNotCapable(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable || (e instanceof Error && e.name === "NotCapable");
}

/** A host outside --allow-net: say which one and how to allow it (README, "Permissions and custom hosts"). */
export function hostNotAllowed(url: URL, cause?: unknown): DbxrError {
  const host = url.hostname;
  return new DbxrError(
    "HostNotAllowed",
    `${host} is outside dbxr's network permission scope (Databricks hosts and loopback only). ` +
      `For a custom host, run from source with an extra --allow-net=${host}, or rebuild the binary with it ` +
      `(README, "Permissions and custom hosts")`,
    {
      hint: `deno run $(cat scripts/permission_flags.txt) --allow-net=${host} main.ts …`,
      details: { host, url: url.origin },
      cause,
    },
  );
}

function networkError(
  req: SendRequest,
  r: Extract<AttemptResult, { kind: "network" }>,
  attempts: number,
  idempotent: boolean,
  reason: string | undefined,
): DbxrError {
  const url = new URL(req.url);
  const notRepeated = r.phase === "sent" && !idempotent && attempts === 1;
  // "gave up after N attempts" would only repeat the count; a spent budget is worth saying.
  const extra = reason && !reason.startsWith("gave up") ? `, ${reason}` : "";
  const tail = notRepeated
    ? "; the request may have reached the server, so it was not repeated"
    : attempts > 1
    ? ` (${attempts} attempts${extra})`
    : "";
  const message = `cannot reach ${url.host}: ${req.method} ${url.pathname}: ${redactText(r.error)}${tail}`;
  return new DbxrError("NetworkError", message, {
    hint: "dbxr doctor",
    details: {
      method: req.method,
      path: url.pathname,
      host: url.host,
      attempts,
      phase: r.phase,
      ...(r.timedOut ? { timed_out: true } : {}),
      ...(notRepeated ? { may_have_reached_server: true } : {}),
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// Error bodies (docs/databricks-behaviour.md §1.1) and their DbxrError codes (§1.2 there,
// docs/contract.md §6).

export interface ParsedError {
  errorCode?: string;
  message: string;
  requestId?: string;
}

/** Reads every error body shape the SDKs accept, in their order. */
export function parseErrorBody(status: number, statusText: string, text: string): ParsedError {
  const body = text.trim();
  const fallback = statusText || STATUS_TEXT[status] || `HTTP ${status}`;
  if (body === "") return { message: fallback };

  if (body.startsWith("{")) {
    let o: Record<string, unknown> | undefined;
    try {
      const v = JSON.parse(body);
      if (v && typeof v === "object" && !Array.isArray(v)) o = v as Record<string, unknown>;
    } catch {
      o = undefined;
    }
    if (o) {
      const str = (v: unknown) => typeof v === "string" && v !== "" ? v : undefined;
      const errorCode = o.error_code === undefined || o.error_code === null || o.error_code === ""
        ? undefined
        : String(o.error_code);
      const requestId = requestIdFromDetails(o.details);
      // Databricks 2.x: {error_code, message, details}.
      if (errorCode !== undefined || str(o.message)) {
        return { errorCode, message: str(o.message) ?? errorCode ?? fallback, requestId };
      }
      // SCIM: {detail, status, scimType}.
      if (str(o.detail) || str(o.scimType)) {
        const detail = o.detail === "null" ? "SCIM API Internal Error" : str(o.detail) ?? "";
        return {
          errorCode: `SCIM_${str(o.status) ?? o.status ?? status}`,
          message: [str(o.scimType), detail].filter(Boolean).join(" ") || fallback,
        };
      }
      // API 1.2 {"error": "..."}, and OAuth {error, error_description}.
      if (str(o.error)) {
        const desc = str(o.error_description);
        return { message: desc ? `${o.error}: ${desc}` : (o.error as string), requestId };
      }
      // The other OAuth shape: {errorCode, errorSummary}.
      if (str(o.errorSummary)) return { errorCode: str(o.errorCode), message: o.errorSummary as string };
    }
  }

  // Plain "ERROR_CODE: message" (some account APIs).
  const plain = /^([A-Z][A-Z0-9_]+): ([\s\S]*)$/.exec(body);
  if (plain) return { errorCode: plain[1], message: plain[2].trim() };

  // HTML error pages from gateways: the <pre> text, else the <title>.
  if (/^<(!doctype|html|head|body)/i.test(body) || /<\/(pre|title|html)>/i.test(body)) {
    const m = /<pre[^>]*>([\s\S]*?)<\/pre>/i.exec(body) ?? /<title[^>]*>([\s\S]*?)<\/title>/i.exec(body);
    const msg = m ? decodeEntities(m[1].replace(/<[^>]+>/g, "")).trim() : "";
    return { message: msg || fallback };
  }

  return { message: body.length > 1000 ? `${body.slice(0, 1000)}…` : body };
}

function requestIdFromDetails(details: unknown): string | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    if (d && typeof d === "object" && typeof (d as { request_id?: unknown }).request_id === "string") {
      return (d as { request_id: string }).request_id;
    }
  }
  return undefined;
}

function decodeEntities(s: string): string {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

/** The endpoints that answer 400 for a missing object (the SDKs' error_overrides). */
const NOT_FOUND_OVERRIDES: Array<{ method: string; path: RegExp; message: RegExp }> = [
  { method: "GET", path: /^\/api\/2\.\d\/clusters\/get/, message: /Cluster .* does not exist/ },
  { method: "GET", path: /^\/api\/2\.\d\/jobs\/get/, message: /Job .* does not exist/ },
  {
    method: "GET",
    path: /^\/api\/2\.\d\/jobs\/runs\/get/,
    message: /Run .* does not exist|Run: .* in job: .* doesn't exist/,
  },
  {
    method: "POST",
    path: /^\/api\/2\.\d\/jobs\/runs\/cancel/,
    message: /Run .* does not exist|Run: .* in job: .* doesn't exist/,
  },
];

export function errorCodeFor(
  status: number,
  parsed: ParsedError,
  method: string,
  path: string,
): ErrorCode {
  const code = parsed.errorCode;
  if (status === 401 || code === "UNAUTHENTICATED") return "AuthError";
  // Databricks answers a token it no longer accepts with 403, not 401: that is a credentials problem
  // (fix the token), not a missing permission (ask an admin).
  if (status === 403 && STALE_TOKEN_MESSAGE.test(parsed.message)) return "AuthError";
  if (status === 403 || code === "PERMISSION_DENIED") return "PermissionDenied";
  if (status === 404 || code === "RESOURCE_DOES_NOT_EXIST" || code === "NOT_FOUND") return "NotFound";
  if (
    status === 400 &&
    NOT_FOUND_OVERRIDES.some((o) =>
      o.method === method && o.path.test(path) && o.message.test(parsed.message)
    )
  ) return "NotFound";
  if (status === 429 || code === "REQUEST_LIMIT_EXCEEDED" || code === "RESOURCE_EXHAUSTED") {
    return "RateLimited";
  }
  return "ApiError";
}

export interface ErrorContext {
  method: string;
  /** The path without the query. */
  path: string;
  host?: string;
  profile?: string;
  authType?: string;
}

/** The DbxrError for a response with an error status. */
export function errorFromResponse(res: RawResponse, c: ErrorContext): DbxrError {
  const parsed = parseErrorBody(res.status, res.statusText, res.text);
  const code = errorCodeFor(res.status, parsed, c.method, c.path);
  const requestId = res.headers.get("x-request-id") ?? parsed.requestId;
  const details: Record<string, unknown> = {
    http_status: res.status,
    ...(parsed.errorCode !== undefined ? { error_code: parsed.errorCode } : {}),
    ...(requestId ? { request_id: requestId } : {}),
    method: c.method,
    path: c.path,
  };
  let message = redactText(parsed.message);
  let hint: string | undefined;
  if (code === "AuthError" || code === "PermissionDenied") {
    // Say which credentials were refused, never the credentials themselves.
    if (c.host) details.host = c.host;
    if (c.profile) details.profile = c.profile;
    if (c.authType) details.auth_type = c.authType;
    const used = [
      c.host && `host ${c.host}`,
      c.profile && `profile ${c.profile}`,
      c.authType && `auth ${c.authType}`,
    ]
      .filter(Boolean).join(", ");
    if (used) message = `${message} (${used})`;
    hint = describeHint(c.profile);
  }
  if (res.attempts > 1) details.attempts = res.attempts;
  return new DbxrError(code, message, { hint, details });
}

// ---------------------------------------------------------------------------------------------------------
// The client: typed JSON calls on top of the transport.

export interface Credentials {
  authType: string;
  /** The Authorization header value. */
  header(): Promise<string>;
  /** Drops a cached token, so that the next header() fetches a fresh one (after a 401). */
  invalidate(): void;
}

export type QueryValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly QueryValue[]
  | { readonly [k: string]: QueryValue };
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Starts with "/"; segments already encoded (see encodePath). */
  path: string;
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Sent as is (file uploads), with contentType (default application/octet-stream). */
  rawBody?: Uint8Array<ArrayBuffer> | string;
  contentType?: string;
  headers?: Record<string, string>;
  idempotent?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** See SendRequest.detached. */
  detached?: boolean;
  /** json (default): parsed, an empty body as {}; text; bytes. */
  responseType?: "json" | "text" | "bytes";
  /**
   * Key paths of strings that a large or unsized JSON body gives as UTF-8 bytes (Utf8Chunks), not decoded
   * (JsonStreamOptions.bytesAt): a command's output, which is only written to a file and previewed.
   */
  bytesAt?: readonly (readonly string[])[];
}

export interface FullResponse<T> {
  data: T;
  status: number;
  headers: Headers;
}

export interface ApiClientOptions {
  /** Normalised workspace URL (scheme, host, port). */
  host: string;
  credentials: Credentials;
  /** Default: dbxr/<version> deno/<v> os/<os> auth/<type> cmd/<command>. */
  userAgent?: string;
  /** The command, for the User-Agent (e.g. "cluster_list"). */
  command?: string;
  /** Per attempt (default 60 s). */
  timeoutMs?: number;
  /** Overrides of DEFAULT_RETRY_POLICY (budget about 60 s). */
  retry?: Partial<RetryPolicy>;
  /** The profile used, for hints on auth errors. */
  profile?: string;
  /** A transport to share (the one the OAuth token calls use); one is made otherwise. */
  send?: Send;
}

export class ApiClient {
  readonly host: string;
  readonly credentials: Credentials;
  readonly userAgent: string;
  readonly profile?: string;
  /** The transport, for calls that need no Databricks auth (OAuth token endpoint). */
  readonly send: Send;

  constructor(ctx: Ctx, opts: ApiClientOptions) {
    this.host = opts.host.replace(/\/+$/, "");
    this.credentials = opts.credentials;
    this.profile = opts.profile;
    this.userAgent = opts.userAgent ??
      buildUserAgent({ authType: opts.credentials.authType, command: opts.command });
    this.send = opts.send ??
      createSend(ctx, { userAgent: this.userAgent, timeoutMs: opts.timeoutMs, retry: opts.retry });
  }

  get<T>(path: string, query?: Query, opts: Partial<RequestOptions> = {}): Promise<T> {
    return this.request<T>({ ...opts, method: "GET", path, query });
  }

  post<T>(path: string, body?: unknown, opts: Partial<RequestOptions> = {}): Promise<T> {
    return this.request<T>({ ...opts, method: "POST", path, body: body ?? {} });
  }

  async request<T>(opts: RequestOptions): Promise<T> {
    return (await this.requestFull<T>(opts)).data;
  }

  /** Like request, with the status and headers (x-databricks-org-id on SCIM Me, for example). */
  async requestFull<T>(opts: RequestOptions): Promise<FullResponse<T>> {
    const url = this.url(opts.path, opts.query);
    const headers: Record<string, string> = { ...opts.headers };
    let body: string | Uint8Array<ArrayBuffer> | undefined;
    if (opts.form !== undefined) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(opts.form).toString();
    } else if (opts.rawBody !== undefined) {
      headers["Content-Type"] = opts.contentType ?? "application/octet-stream";
      body = opts.rawBody;
    } else if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }

    let res: RawResponse;
    for (let refreshed = false;;) {
      const auth = await this.credentials.header();
      res = await this.send({
        method: opts.method,
        url,
        headers: { ...headers, Authorization: auth },
        body,
        idempotent: opts.idempotent,
        timeoutMs: opts.timeoutMs,
        signal: opts.signal,
        detached: opts.detached,
        responseType: opts.responseType ?? "json",
        bytesAt: opts.bytesAt,
        secrets: [auth.replace(/^\S+\s+/, "")],
      });
      // A token can expire between our check and the server's: fetch a new one, once. A PAT cannot refresh.
      if (!refreshed && this.credentials.authType !== "pat" && isStaleToken(res)) {
        refreshed = true;
        this.credentials.invalidate();
        continue;
      }
      break;
    }
    const path = new URL(url).pathname;
    if (res.status >= 400) {
      throw errorFromResponse(res, {
        method: opts.method,
        path,
        host: this.host,
        profile: this.profile,
        authType: this.credentials.authType,
      });
    }
    return { data: decodeBody<T>(res, opts, path), status: res.status, headers: res.headers };
  }

  url(path: string, query?: Query): string {
    const qs = query ? encodeQuery(query) : "";
    return `${this.host}${path.startsWith("/") ? path : `/${path}`}${qs ? `?${qs}` : ""}`;
  }
}

/**
 * 401, or the 403 that Databricks sends for a token it no longer accepts ("Invalid access token.",
 * "Token is expiring within 30 seconds. (token expired)"); other 403s are real permission answers.
 */
function isStaleToken(res: RawResponse): boolean {
  if (res.status === 401) return true;
  if (res.status !== 403) return false;
  return STALE_TOKEN_MESSAGE.test(parseErrorBody(403, res.statusText, res.text).message);
}

const STALE_TOKEN_MESSAGE = /invalid access token|token is expir|token expired/i;

function decodeBody<T>(res: RawResponse, opts: RequestOptions, path: string): T {
  if (opts.responseType === "bytes") return (res.bytes ?? new Uint8Array()) as T;
  if (opts.responseType === "text") return res.text as T;
  let v: unknown;
  if (res.json) {
    const json = res.json;
    res.json = undefined; // the answer is handed over once: nothing else keeps a large output alive
    if ("error" in json) {
      throw new DbxrError(
        "ApiError",
        `${opts.method} ${path} answered ${res.status} with a body that is not JSON: ` +
          redactText(utf8.decode(json.head.subarray(0, 200))),
        { details: { http_status: res.status, method: opts.method, path } },
      );
    }
    if ("empty" in json) return {} as T;
    v = json.value;
  } else {
    if (res.text.trim() === "") return {} as T;
    try {
      v = JSON.parse(res.text);
    } catch {
      throw new DbxrError(
        "ApiError",
        `${opts.method} ${path} answered ${res.status} with a body that is not JSON: ` +
          redactText(res.text.slice(0, 200)),
        { details: { http_status: res.status, method: opts.method, path } },
      );
    }
  }
  // Every Databricks REST answer is a JSON object; anything else (a proxy's `null`, an array) would
  // otherwise surface later as a TypeError far from its cause.
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw unexpectedAnswer(opts.method, path, res.status, "a JSON object", v);
  }
  return v as T;
}

/** The ApiError for a 2xx answer that is not of the shape the API documents. */
export function unexpectedAnswer(
  method: string,
  path: string,
  status: number,
  expected: string,
  got: unknown,
): DbxrError {
  const what = got === null ? "null" : Array.isArray(got) ? "an array" : typeof got;
  return new DbxrError(
    "ApiError",
    `${method} ${path} answered ${status} with ${what} where ${expected} was expected`,
    { details: { http_status: status, method, path } },
  );
}

/** A field that must be a non-empty id (ids may come as numbers: taken as their decimal text). */
export function requireId(value: unknown, method: string, path: string, field: string): string {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "string" && value.trim() !== "" && value.length <= 256) return value;
  throw unexpectedAnswer(method, path, 200, `a string \`${field}\``, value);
}

/** A list field: absent means empty; anything but an array is an unexpected answer. */
export function listField<T>(value: unknown, method: string, path: string, field: string): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw unexpectedAnswer(method, path, 200, `an array \`${field}\``, value);
  return value as T[];
}

/**
 * Arrays as repeated keys, nested objects flattened with dots, booleans as true/false
 * (docs/databricks-behaviour.md §0).
 */
export function encodeQuery(query: Query): string {
  const params = new URLSearchParams();
  const add = (key: string, v: QueryValue): void => {
    if (v === undefined || v === null) return;
    if (Array.isArray(v)) { for (const x of v) add(key, x); }
    else if (typeof v === "object") { for (const [k, x] of Object.entries(v)) add(`${key}.${k}`, x); }
    else params.append(key, String(v));
  };
  for (const [k, v] of Object.entries(query)) add(k, v);
  return params.toString();
}

/** Encodes each segment of a multi-segment path parameter, keeping "/" (Files API, workspace files). */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/**
 * The product/version pairs of the SDK convention (docs/databricks-behaviour.md §9.6), ending with
 * cmd/<group_verb>.
 */
export function buildUserAgent(
  p: { authType?: string; command?: string; deno?: string; os?: string },
): string {
  const clean = (s: string) => s.trim().replace(/[^a-zA-Z0-9_.+-]+/g, "_");
  const parts = [`dbxr/${VERSION}`, `deno/${p.deno ?? Deno.version.deno}`, `os/${p.os ?? Deno.build.os}`];
  if (p.authType) parts.push(`auth/${clean(p.authType)}`);
  if (p.command) parts.push(`cmd/${clean(p.command)}`);
  return parts.join(" ");
}

/** The start of a body that was parsed as it came (never held whole): redacted, cut, with its size. */
function headForTrace(head: Uint8Array, total: number, secrets: string[]): string {
  const text = utf8.decode(head);
  if (total <= head.length) return redactForTrace(text, TRACE_BODY_CHARS, secrets);
  return `${redactText(text, secrets).slice(0, TRACE_BODY_CHARS)}… (${total} bytes)`;
}

function traceBody(body: string | Uint8Array, secrets: string[]): string {
  return typeof body === "string"
    ? redactForTrace(body, TRACE_BODY_CHARS, secrets)
    : `<${body.length} bytes>`;
}

function trace(ctx: Ctx, text: () => string): void {
  // Built lazily: redacting bodies costs time that only --debug should pay. One debug() per line, so
  // that every line of a multi-line body carries the [debug] prefix.
  if (ctx.out.debugEnabled) { for (const line of text().split("\n")) ctx.out.debug(line); }
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};
