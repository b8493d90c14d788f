// Model Serving (docs/databricks-behaviour.md §7): the workspace's serving endpoints and their chat
// invocations, answered by the deterministic fake model in fake_llm.ts. Invocations live at
// /serving-endpoints/{name}/invocations, without the /api/2.0 prefix, and are authenticated like every API
// call.

import { apiError } from "./errors.ts";
import { type ChatMessage, fakeChat } from "./fake_llm.ts";
import { type EmuRequest, ok } from "./http.ts";
import { createRng } from "./random.ts";
import type { Router } from "./router.ts";
import type { EmulatorModule, EmulatorState } from "./state.ts";

interface EndpointSpec {
  name: string;
  description?: string;
  /** Databricks-hosted (pay-per-token) endpoints have no creator. */
  creator?: string;
  endpointType?: string;
  /** The `model` field of a chat completion. */
  model: string;
  servedEntity: Record<string, unknown>;
  tags: { key: string; value: string }[];
  ageDays: number;
}

const DAY = 86_400_000;
const ROLES = ["system", "user", "assistant", "tool", "developer"];
const MAX_N = 5;

const badRequest = (message: string) => apiError(400, "BAD_REQUEST", message);

function endpointSpecs(user: string): EndpointSpec[] {
  return [
    {
      name: "default-llm-endpoint",
      description: "Default chat model of the workspace (a deterministic fake in the dbxr emulator)",
      creator: user,
      model: "meta_llama_v3_3_70b_instruct-3",
      servedEntity: {
        name: "meta_llama_v3_3_70b_instruct-3",
        entity_name: "system.ai.meta_llama_v3_3_70b_instruct",
        entity_version: "3",
        min_provisioned_throughput: 0,
        max_provisioned_throughput: 9500,
        scale_to_zero_enabled: true,
        state: { deployment: "DEPLOYMENT_READY", deployment_state_message: "" },
      },
      tags: [{ key: "team", value: "dbxr" }],
      ageDays: 40,
    },
    {
      name: "databricks-meta-llama-3-3-70b-instruct",
      endpointType: "FOUNDATION_MODEL_API",
      model: "meta-llama-3.3-70b-instruct",
      servedEntity: {
        name: "databricks-meta-llama-3-3-70b-instruct",
        foundation_model: {
          name: "databricks-meta-llama-3-3-70b-instruct",
          display_name: "Meta Llama 3.3 70B Instruct",
          docs: "https://docs.databricks.com/machine-learning/foundation-models/supported-models.html",
          description:
            "Llama 3.3 70B Instruct, served pay-per-token (a deterministic fake in the dbxr emulator).",
        },
      },
      tags: [],
      ageDays: 300,
    },
  ];
}

function messagesOf(body: Record<string, unknown>): ChatMessage[] {
  const raw = body.messages;
  if (raw === undefined) {
    const other = ["prompt", "input", "dataframe_records", "dataframe_split", "instances", "inputs"]
      .find((k) => k in body);
    throw badRequest(
      other
        ? `This endpoint serves task llm/v1/chat: send "messages", not "${other}".`
        : 'Missing required field "messages".',
    );
  }
  if (!Array.isArray(raw) || raw.length === 0) throw badRequest('"messages" must be a non-empty array.');
  return raw.map((m, i) => {
    if (typeof m !== "object" || m === null) throw badRequest(`messages[${i}] must be an object.`);
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== "string" || !ROLES.includes(role)) {
      throw badRequest(`messages[${i}].role must be one of ${ROLES.join(", ")}.`);
    }
    return { role, content: contentText(content, i) };
  });
}

/** A string, null (tool-call turns), or OpenAI-style parts of which the text parts count. */
function contentText(content: unknown, i: number): string {
  if (typeof content === "string") return content;
  if (content === null || content === undefined) return "";
  if (Array.isArray(content)) {
    return content.map((part) => {
      const p = part as Record<string, unknown> | null;
      if (p && p.type === "text" && typeof p.text === "string") return p.text;
      if (p && typeof p.type === "string") return "";
      throw badRequest(`messages[${i}].content has a part without a type.`);
    }).join("\n");
  }
  throw badRequest(`messages[${i}].content must be a string or a list of content parts.`);
}

function optionalNumber(
  body: Record<string, unknown>,
  name: string,
  ok: (n: number) => boolean,
  what: string,
) {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !ok(v)) throw badRequest(`"${name}" must be ${what}.`);
  return v;
}

function stopList(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v;
  throw badRequest('"stop" must be a string or a list of strings.');
}

export function servingModule(state: EmulatorState): EmulatorModule {
  const rng = createRng(state.settings.seed, "serving");
  const createdAt = state.now();
  const specs = endpointSpecs(state.credentials.user.userName).map((s) => ({ ...s, id: rng.hex(32) }));
  const replyIds = createRng(state.settings.seed, "serving-replies");

  const endpointJson = (s: typeof specs[number], detailed: boolean) => {
    const created = createdAt - s.ageDays * DAY;
    return {
      name: s.name,
      ...(s.creator ? { creator: s.creator } : {}),
      creation_timestamp: created,
      last_updated_timestamp: created + DAY,
      state: { ready: "READY", config_update: "NOT_UPDATING" },
      config: {
        served_entities: [structuredClone(s.servedEntity)],
        ...(detailed
          ? {
            traffic_config: { routes: [{ served_model_name: s.servedEntity.name, traffic_percentage: 100 }] },
          }
          : {}),
        config_version: 1,
      },
      id: s.id,
      task: "llm/v1/chat",
      ...(s.endpointType ? { endpoint_type: s.endpointType } : {}),
      ...(s.description ? { description: s.description } : {}),
      ...(s.tags.length ? { tags: s.tags } : {}),
      ...(detailed ? { permission_level: "CAN_QUERY", route_optimized: false } : {}),
    };
  };

  const find = (name: string) => {
    const s = specs.find((x) => x.name === name);
    if (!s) throw apiError(404, "RESOURCE_DOES_NOT_EXIST", `Serving endpoint with name ${name} not found`);
    return s;
  };

  const parseBody = (req: EmuRequest): Record<string, unknown> => {
    const text = req.text().trim();
    let body: unknown;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      throw badRequest("Invalid JSON in the request body.");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw badRequest("The request body must be a JSON object.");
    }
    return body as Record<string, unknown>;
  };

  const chat = (s: typeof specs[number], body: Record<string, unknown>) => {
    const messages = messagesOf(body);
    const maxTokens = optionalNumber(
      body,
      "max_tokens",
      (n) => Number.isInteger(n) && n > 0,
      "a positive integer",
    );
    optionalNumber(body, "temperature", (n) => n >= 0 && n <= 2, "a number from 0 to 2");
    const n = optionalNumber(
      body,
      "n",
      (x) => Number.isInteger(x) && x >= 1 && x <= MAX_N,
      `an integer from 1 to ${MAX_N}`,
    ) ?? 1;
    const stop = stopList(body.stop);
    if (body.stream === true) {
      throw badRequest('Streaming ("stream": true) is not supported by the dbxr emulator.');
    }
    const reply = fakeChat(messages, { maxTokens, stop });
    return ok({
      id: `chatcmpl_${replyIds.uuid()}`,
      object: "chat.completion",
      created: Math.floor(state.now() / 1000),
      model: s.model,
      choices: Array.from({ length: n }, (_, index) => ({
        index,
        message: { role: "assistant", content: reply.content },
        finish_reason: reply.finishReason,
        logprobs: null,
      })),
      usage: {
        prompt_tokens: reply.promptTokens,
        completion_tokens: reply.completionTokens * n,
        total_tokens: reply.promptTokens + reply.completionTokens * n,
      },
    }, { "served-model-name": String(s.servedEntity.name) });
  };

  return {
    name: "serving",
    routes(router: Router) {
      router.get(
        "/api/2.0/serving-endpoints",
        () => ok({ endpoints: specs.map((s) => endpointJson(s, false)) }),
      );
      router.get("/api/2.0/serving-endpoints/:name", (req) => ok(endpointJson(find(req.params.name), true)));
      router.post(
        "/serving-endpoints/:name/invocations",
        (req) => chat(find(req.params.name), parseBody(req)),
      );
      // The OpenAI-compatible form ({host}/serving-endpoints as base URL, the endpoint in "model").
      router.post("/serving-endpoints/chat/completions", (req) => {
        const body = parseBody(req);
        if (typeof body.model !== "string" || body.model === "") {
          throw badRequest('Missing required field "model".');
        }
        return chat(find(body.model), body);
      });
    },
  };
}
