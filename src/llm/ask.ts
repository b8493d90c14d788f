// One question to a serving endpoint: the request, the answer's text and usage, and the retries that an LLM
// call needs beyond the HTTP client's own (which already waits out 429/503 with Retry-After): a 500, 502 or
// 504 from a model server is usually a busy replica, worth two more tries.

import type { ApiClient } from "../api/http.ts";
import { type ChatMessage, type ChatResponse, invoke } from "../api/serving.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError, isDbxrError } from "../errors.ts";

export interface AskOptions {
  endpoint: string;
  prompt: string;
  system?: string;
  maxTokens?: number;
  temperature?: number;
  timeoutMs?: number;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface Answer {
  endpoint: string;
  text: string;
  model: string | null;
  finish_reason: string | null;
  usage: Usage;
  attempts: number;
}

const SERVER_ERRORS = new Set([500, 502, 504]);
const ATTEMPTS = 3;

export function chatRequest(o: AskOptions) {
  const messages: ChatMessage[] = o.system ? [{ role: "system", content: o.system }] : [];
  messages.push({ role: "user", content: o.prompt });
  return {
    messages,
    max_tokens: o.maxTokens ?? 1024,
    temperature: o.temperature ?? 0,
  };
}

/** The text of choices[0] (a string, content parts, or a completions-style `text`), usage zero-filled. */
export function answerOf(endpoint: string, r: ChatResponse): Omit<Answer, "attempts"> {
  const choice = r.choices?.[0];
  if (!choice) {
    throw new DbxrError("ApiError", `endpoint ${endpoint} answered without choices`, {
      details: { endpoint },
    });
  }
  const content = choice.message?.content;
  const text = typeof content === "string"
    ? content
    : Array.isArray(content)
    ? content.filter((p) => p?.type === "text").map((p) => p.text ?? "").join("")
    : typeof choice.text === "string"
    ? choice.text
    : "";
  return {
    endpoint,
    text,
    model: r.model ?? null,
    finish_reason: choice.finish_reason ?? null,
    usage: {
      prompt_tokens: r.usage?.prompt_tokens ?? 0,
      completion_tokens: r.usage?.completion_tokens ?? 0,
      total_tokens: r.usage?.total_tokens ??
        (r.usage?.prompt_tokens ?? 0) + (r.usage?.completion_tokens ?? 0),
    },
  };
}

export async function ask(ctx: Ctx, client: ApiClient, o: AskOptions, signal?: AbortSignal): Promise<Answer> {
  for (let attempt = 1;; attempt++) {
    try {
      const r = await invoke(client, o.endpoint, chatRequest(o), { signal, timeoutMs: o.timeoutMs });
      return { ...answerOf(o.endpoint, r), attempts: attempt };
    } catch (e) {
      const status = isDbxrError(e) ? Number(e.details.http_status) : NaN;
      if (!SERVER_ERRORS.has(status) || attempt >= ATTEMPTS) {
        if (isDbxrError(e) && !e.message.includes(o.endpoint)) {
          throw new DbxrError(e.code, `endpoint ${o.endpoint}: ${e.message}`, {
            hint: e.hint ?? `dbxr llm endpoints`,
            details: { ...e.details, endpoint: o.endpoint, attempts: attempt },
            cause: e,
          });
        }
        throw e;
      }
      await ctx.sleep(1000 * attempt, signal ?? ctx.signal);
    }
  }
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    prompt_tokens: a.prompt_tokens + b.prompt_tokens,
    completion_tokens: a.completion_tokens + b.completion_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
  };
}

export const NO_USAGE: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
