// What the workspace was asked, for tests and goldens: method, path, query, status and body, with every
// secret the emulator knows (and any field named like a secret) shown as [TOKEN]. Counts per
// "METHOD path" survive the entry cap, so long benchmarks can still count their polls.

import type { EmuRequest } from "./http.ts";

export interface RequestLogEntry {
  /** 1, 2, 3... in arrival order (not reset by clear(), so a test can tell old entries from new). */
  seq: number;
  /** Emulator clock, epoch ms. */
  time: number;
  method: string;
  path: string;
  /** The raw query string without `?` ("" when none), redacted. */
  query: string;
  /** 0 for a dropped connection. */
  status: number;
  /** Parsed JSON, a string (form or text), or `[binary N bytes]`; absent when empty. */
  body?: unknown;
  /** How an authenticated request proved itself: `pat`, `oauth` or `context:<contextId>`. */
  auth?: string;
  /**
   * Set when an injected fault answered, dropped or delayed the request; `drop-after` and `status-after`:
   * the route did its work first, only its answer was lost or replaced.
   */
  fault?: "status" | "drop" | "latency" | "drop-after" | "status-after";
}

export const REDACTED = "[TOKEN]";
const SECRET_KEY = /^(token|access_token|refresh_token|id_token|client_secret|password|token_value)$/i;
const MAX_ENTRIES = 10_000;
const MAX_TEXT = 64 * 1024;

export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join(REDACTED);
  return out;
}

function redactValue(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === "string") return redactText(value, secrets);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) && typeof v === "string" ? REDACTED : redactValue(v, secrets),
      ]),
    );
  }
  return value;
}

function redactForm(text: string, secrets: readonly string[]): string {
  const params = new URLSearchParams(text);
  const parts: string[] = [];
  for (const [k, v] of params) {
    parts.push(
      `${encodeURIComponent(k)}=${
        SECRET_KEY.test(k) ? REDACTED : encodeURIComponent(redactText(v, secrets))
      }`,
    );
  }
  return parts.join("&");
}

const fatalDecoder = new TextDecoder("utf-8", { fatal: true });

export function logBody(req: EmuRequest, secrets: readonly string[]): unknown {
  if (req.bytes.length === 0) return undefined;
  let text: string;
  try {
    text = fatalDecoder.decode(req.bytes);
  } catch {
    return `[binary ${req.bytes.length} bytes]`;
  }
  if (text.includes("\u0000")) return `[binary ${req.bytes.length} bytes]`;
  const type = req.headers.get("content-type") ?? "";
  if (type.includes("application/x-www-form-urlencoded")) return redactForm(text, secrets);
  try {
    return redactValue(JSON.parse(text), secrets);
  } catch {
    const cut = text.length > MAX_TEXT
      ? `${text.slice(0, MAX_TEXT)}...[${text.length - MAX_TEXT} more chars]`
      : text;
    return redactText(cut, secrets);
  }
}

export class RequestLog {
  #entries: RequestLogEntry[] = [];
  #counts = new Map<string, number>();
  #seq = 0;

  constructor(private readonly secrets: () => readonly string[]) {}

  record(req: EmuRequest, time: number, status: number, fault?: RequestLogEntry["fault"]): RequestLogEntry {
    const secrets = this.secrets();
    const entry: RequestLogEntry = {
      seq: ++this.#seq,
      time,
      method: req.method,
      path: req.path,
      query: redactText(req.url.search.replace(/^\?/, ""), secrets),
      status,
    };
    const body = logBody(req, secrets);
    if (body !== undefined) entry.body = body;
    if (req.auth) entry.auth = req.auth;
    if (fault) entry.fault = fault;
    this.#entries.push(entry);
    if (this.#entries.length > MAX_ENTRIES) this.#entries.shift();
    const key = `${req.method} ${req.path}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    return entry;
  }

  entries(): RequestLogEntry[] {
    return structuredClone(this.#entries);
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  clear(): void {
    this.#entries = [];
    this.#counts.clear();
  }
}
