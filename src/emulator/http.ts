// The request and response plumbing shared by every route module: one parsed view of the request (its
// body read once, so the request log and the handler both see it) and the JSON response helper.

import type { Principal } from "./state.ts";

/** A request as route handlers see it. */
export interface EmuRequest {
  readonly method: string;
  readonly url: URL;
  /** The URL path, still percent-encoded. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Headers;
  /** Named segments of the matched route pattern, percent-decoded. */
  params: Record<string, string>;
  readonly bytes: Uint8Array;
  /** The caller, once authentication has passed; undefined on public and control routes. */
  principal?: Principal;
  /** How the caller authenticated: `pat`, `oauth` or `context:<contextId>` (for the request log). */
  auth?: string;
  text(): string;
  /**
   * The body parsed as a JSON object; an empty body is `{}` as the SDKs send for no-argument POSTs.
   * Anything that is not an object is the MALFORMED_REQUEST error that Databricks answers.
   */
  json(): Record<string, unknown>;
}

export type Handler = (req: EmuRequest) => Response | Promise<Response>;

const decoder = new TextDecoder();

export async function readRequest(req: Request): Promise<EmuRequest> {
  const url = new URL(req.url);
  const bytes = req.body ? new Uint8Array(await req.arrayBuffer()) : new Uint8Array();
  let text: string | undefined;
  const emu: EmuRequest = {
    method: req.method.toUpperCase(),
    url,
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    params: {},
    bytes,
    text: () => (text ??= decoder.decode(bytes)),
    json: () => parseJsonObject(emu.text()),
  };
  return emu;
}

function parseJsonObject(text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedBody("Invalid JSON given in the body of the request - failed to parse given JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MalformedBody("Invalid JSON given in the body of the request - expected a map");
  }
  return value as Record<string, unknown>;
}

/** Thrown by EmuRequest.json(); the pipeline maps it to 400 MALFORMED_REQUEST (kept apart to avoid a cycle). */
export class MalformedBody extends Error {
  override name = "MalformedBody";
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export const ok = (body: unknown = {}, headers: Record<string, string> = {}) =>
  jsonResponse(200, body, headers);

// JSON.rawJSON (V8, Deno 2) is not in Deno's TypeScript lib yet.
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * An integer written into the JSON exactly as given, for int64 values past 2^53 such as
 * `spark_context_id`: a client that parses them as JS numbers loses precision, as it would against a
 * real workspace.
 */
export function rawInt(digits: string): unknown {
  if (!/^-?\d+$/.test(digits)) throw new TypeError(`not an integer: ${digits}`);
  return rawJSON(digits);
}
