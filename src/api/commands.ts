// Command Execution API 1.2 (docs/databricks-behaviour.md §2): execution contexts and commands on a classic
// all-purpose cluster. Parameter names are camelCase; errors come as {"error": "..."} (mapped by http.ts).

import { type ApiClient, requireId } from "./http.ts";

export type Language = "python" | "sql" | "scala" | "r";
export type ContextStatus = "Pending" | "Running" | "Error";
export type CommandStatus = "Queued" | "Running" | "Cancelling" | "Finished" | "Cancelled" | "Error";

export interface CommandResults {
  resultType?: "text" | "table" | "image" | "images" | "error";
  /**
   * A text result's output is a string, or, from a large or unsized answer (http.ts LARGE_JSON_BYTES), its
   * well-formed UTF-8 bytes (Utf8Chunks): written to the step's file as they are, never decoded whole.
   */
  data?: unknown;
  truncated?: boolean;
  schema?: Array<{ name: string; type?: string; metadata?: unknown }>;
  isJsonSchema?: boolean;
  fileName?: string;
  fileNames?: string[];
  summary?: string;
  cause?: string;
}

export interface CommandStatusResponse {
  id: string;
  status: CommandStatus;
  results?: CommandResults | null;
}

export const TERMINAL_COMMAND_STATES: ReadonlySet<CommandStatus> = new Set([
  "Finished",
  "Cancelled",
  "Error",
]);

export async function createContext(
  client: ApiClient,
  clusterId: string,
  language: Language,
  opts: { detached?: boolean } = {},
): Promise<string> {
  // Not idempotent: a retried create after the request reached the server would leak a context.
  const r = await client.post<{ id: unknown }>("/api/1.2/contexts/create", { clusterId, language }, opts);
  return requireId(r.id, "POST", "/api/1.2/contexts/create", "id");
}

export function contextStatus(
  client: ApiClient,
  clusterId: string,
  contextId: string,
  signal?: AbortSignal,
): Promise<{ id: string; status: ContextStatus; emulator_error?: string }> {
  return client.get("/api/1.2/contexts/status", { clusterId, contextId }, { signal });
}

export async function destroyContext(
  client: ApiClient,
  clusterId: string,
  contextId: string,
  opts: { detached?: boolean } = {},
): Promise<void> {
  await client.post("/api/1.2/contexts/destroy", { clusterId, contextId }, { idempotent: true, ...opts });
}

export async function execute(
  client: ApiClient,
  p: { clusterId: string; contextId: string; language: Language; command: string },
  opts: { detached?: boolean } = {},
): Promise<string> {
  // Never retried once sent: running the user's code twice is worse than reporting a network error.
  const r = await client.post<{ id: unknown }>("/api/1.2/commands/execute", p, opts);
  return requireId(r.id, "POST", "/api/1.2/commands/execute", "id");
}

export function commandStatus(
  client: ApiClient,
  p: { clusterId: string; contextId: string; commandId: string },
  opts: { signal?: AbortSignal; detached?: boolean } = {},
): Promise<CommandStatusResponse> {
  return client.get("/api/1.2/commands/status", p, { ...opts, bytesAt: [["results", "data"]] });
}

/** `detached`: sent even after Ctrl-C aborted the rest of the command (see http.ts). */
export async function cancel(
  client: ApiClient,
  p: { clusterId: string; contextId: string; commandId: string },
  opts: { detached?: boolean } = {},
): Promise<void> {
  // Cancelling twice is harmless, so a lost answer may be retried.
  await client.post("/api/1.2/commands/cancel", p, { idempotent: true, ...opts });
}
