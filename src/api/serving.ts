// Model Serving (docs/databricks-behaviour.md §7): endpoints and chat invocations. Invocations live at
// /serving-endpoints/{name}/invocations, without the /api/2.0 prefix.

import { encodePath } from "./http.ts";
import type { ApiClient } from "./http.ts";

export interface ServingEndpoint {
  name: string;
  task?: string;
  endpoint_type?: string;
  creator?: string;
  state?: { ready?: string; config_update?: string };
  config?: { served_entities?: Array<Record<string, unknown>> };
  [key: string]: unknown;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  max_tokens?: number;
  temperature?: number;
}

export interface ChatResponse {
  id?: string;
  model?: string;
  choices?: Array<{
    message?: { role?: string; content?: string | Array<{ type?: string; text?: string }> | null };
    text?: string;
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
}

export async function listEndpoints(client: ApiClient, signal?: AbortSignal): Promise<ServingEndpoint[]> {
  const r = await client.get<{ endpoints?: ServingEndpoint[] }>("/api/2.0/serving-endpoints", undefined, {
    signal,
  });
  return r.endpoints ?? [];
}

export function getEndpoint(client: ApiClient, name: string, signal?: AbortSignal): Promise<ServingEndpoint> {
  return client.get(`/api/2.0/serving-endpoints/${encodePath(name)}`, undefined, { signal });
}

/**
 * One chat completion. Marked idempotent: asking again costs tokens but changes nothing, so a connection
 * that dropped after sending is retried like a GET.
 */
export function invoke(
  client: ApiClient,
  endpoint: string,
  body: ChatRequest,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<ChatResponse> {
  return client.post(`/serving-endpoints/${encodePath(endpoint)}/invocations`, body, {
    idempotent: true,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  });
}
