// Model Serving through emulator.handle: the endpoint list and details, and chat invocations answered
// by the deterministic fake model (its rules are in src/emulator/README.md).

import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { type TestEmulator, testEmulator } from "../helpers/emulator.ts";
import { served } from "../helpers/served.ts";

const DEFAULT = "default-llm-endpoint";
const LLAMA = "databricks-meta-llama-3-3-70b-instruct";

type Message = { role: string; content: unknown };

const user = (content: string): Message => ({ role: "user", content });

function invoke(te: TestEmulator, body: unknown, opts: { endpoint?: string; token?: string | null } = {}) {
  return te.post(`/serving-endpoints/${opts.endpoint ?? DEFAULT}/invocations`, body, { token: opts.token });
}

async function reply(
  te: TestEmulator,
  messages: Message[],
  extra: Record<string, unknown> = {},
): Promise<string> {
  const r = await invoke(te, { messages, ...extra });
  assertEquals(r.status, 200, r.text);
  return r.body.choices[0].message.content;
}

Deno.test("serving-endpoints: list and get with ServingEndpoint fields; a missing name is 404", async () => {
  await using te = testEmulator();
  const list = await te.get("/api/2.0/serving-endpoints");
  assertEquals(list.status, 200);
  assertEquals(list.body.endpoints.map((e: { name: string }) => e.name), [DEFAULT, LLAMA]);
  for (const e of list.body.endpoints) {
    assertEquals(e.task, "llm/v1/chat");
    assertEquals(e.state, { ready: "READY", config_update: "NOT_UPDATING" });
    assertMatch(e.id, /^[0-9a-f]{32}$/);
    assert(e.creation_timestamp < e.last_updated_timestamp && e.last_updated_timestamp < te.now());
    assertEquals(typeof e.config.served_entities[0].name, "string");
  }
  const fm = list.body.endpoints[1];
  assertEquals([fm.endpoint_type, "creator" in fm], ["FOUNDATION_MODEL_API", false]);
  assertEquals(fm.config.served_entities[0].foundation_model.display_name, "Meta Llama 3.3 70B Instruct");
  assertEquals(list.body.endpoints[0].creator, "dbxr-dev@example.com");

  const get = await te.get(`/api/2.0/serving-endpoints/${DEFAULT}`);
  assertEquals(get.status, 200);
  assertEquals(get.body.id, list.body.endpoints[0].id);
  assertEquals(get.body.permission_level, "CAN_QUERY");
  assertEquals(get.body.config.traffic_config.routes, [
    { served_model_name: "meta_llama_v3_3_70b_instruct-3", traffic_percentage: 100 },
  ]);

  const missing = await te.get("/api/2.0/serving-endpoints/nope");
  assertEquals([missing.status, missing.body], [404, {
    error_code: "RESOURCE_DOES_NOT_EXIST",
    message: "Serving endpoint with name nope not found",
  }]);
  assertEquals((await te.get("/api/2.0/serving-endpoints", { token: null })).status, 401);
});

Deno.test("invocations: the chat completion shape, usage, and the served-model-name header", async () => {
  await using te = testEmulator();
  const r = await invoke(te, {
    messages: [{ role: "system", content: "Be brief." }, user("echo: hello there")],
    max_tokens: 256,
    temperature: 0.2,
  });
  assertEquals(r.status, 200, r.text);
  assertEquals(r.headers.get("served-model-name"), "meta_llama_v3_3_70b_instruct-3");
  assertMatch(r.body.id, /^chatcmpl_[0-9a-f-]{36}$/);
  assertEquals(r.body, {
    id: r.body.id,
    object: "chat.completion",
    created: Math.floor(te.now() / 1000),
    model: "meta_llama_v3_3_70b_instruct-3",
    choices: [{
      index: 0,
      message: { role: "assistant", content: "hello there" },
      finish_reason: "stop",
      logprobs: null,
    }],
    usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  });
  const fm = await invoke(te, { messages: [user("echo: x")] }, { endpoint: LLAMA });
  assertEquals([fm.headers.get("served-model-name"), fm.body.model], [LLAMA, "meta-llama-3.3-70b-instruct"]);
  assertEquals((await invoke(te, { messages: [user("hi")] }, { token: null })).status, 401);
  assertEquals((await invoke(te, { messages: [user("hi")] }, { token: "dapi0000" })).status, 403);
});

Deno.test("the fake model: echo, upper, count words, a stable hashed reply, system prefix, limits", async () => {
  await using te = testEmulator();
  assertEquals(await reply(te, [user("Please echo: The Same Words  ")]), "The Same Words");
  assertEquals(await reply(te, [user("upper: make me loud")]), "MAKE ME LOUD");
  assertEquals(await reply(te, [user("count words: one two  three\nfour")]), "4");
  assertEquals(await reply(te, [user("ECHO: case does not matter")]), "case does not matter");
  // Only the last user message is the prompt.
  assertEquals(
    await reply(te, [user("echo: old"), { role: "assistant", content: "old" }, user("upper: new")]),
    "NEW",
  );

  const plain = [user("What is Apache Spark and why would anyone use it for data engineering today?")];
  const first = await reply(te, plain);
  assertMatch(
    first,
    /^This is a fake reply \([0-9a-f]{8}\) to: What is Apache Spark and why would anyone use it for data \.\.\.$/,
  );
  assertEquals(await reply(te, plain), first, "same conversation, same reply");
  await using other = testEmulator({ seed: 99 });
  assertEquals(await reply(other, plain), first, "independent of the seed");
  const withSystem = await reply(te, [{ role: "system", content: "You are terse." }, ...plain]);
  assert(withSystem !== first, "system messages change the hashed reply");
  assertMatch(await reply(te, [user("")]), /^This is a fake reply \([0-9a-f]{8}\)\.$/);

  assertEquals(
    await reply(te, [{ role: "system", content: "Rules:\nprefix: [bot]\nBe nice." }, user("echo: hi")]),
    "[bot] hi",
  );
  const cut = await invoke(te, { messages: [user("echo: a b  c d e")], max_tokens: 3 });
  assertEquals(cut.body.choices[0].message.content, "a b  c");
  assertEquals(cut.body.choices[0].finish_reason, "length");
  assertEquals(cut.body.usage.completion_tokens, 3);
  assertEquals(await reply(te, [user("echo: first. second")], { stop: ["."] }), "first");
  const two = await invoke(te, { messages: [user("echo: twice")], n: 2 });
  assertEquals(two.body.choices.map((c: { index: number }) => c.index), [0, 1]);
  assertEquals(two.body.usage, { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
  assertEquals(
    await reply(te, [{ role: "user", content: [{ type: "text", text: "echo: from parts" }] }]),
    "from parts",
  );
});

Deno.test("invocations: invalid bodies are 400 BAD_REQUEST", async () => {
  await using te = testEmulator();
  const cases: [unknown, string][] = [
    ["{nope", "Invalid JSON in the request body."],
    ["[1]", "The request body must be a JSON object."],
    [{}, 'Missing required field "messages".'],
    [{ prompt: "hi" }, 'This endpoint serves task llm/v1/chat: send "messages", not "prompt".'],
    [{ messages: [] }, '"messages" must be a non-empty array.'],
    [
      { messages: [{ role: "robot", content: "x" }] },
      "messages[0].role must be one of system, user, assistant, tool, developer.",
    ],
    [
      { messages: [{ role: "user", content: 5 }] },
      "messages[0].content must be a string or a list of content parts.",
    ],
    [{ messages: [user("x")], max_tokens: 0 }, '"max_tokens" must be a positive integer.'],
    [{ messages: [user("x")], temperature: 3 }, '"temperature" must be a number from 0 to 2.'],
    [{ messages: [user("x")], n: 9 }, '"n" must be an integer from 1 to 5.'],
    [{ messages: [user("x")], stop: [1] }, '"stop" must be a string or a list of strings.'],
    [
      { messages: [user("x")], stream: true },
      'Streaming ("stream": true) is not supported by the dbxr emulator.',
    ],
  ];
  for (const [body, message] of cases) {
    const r = await invoke(te, body);
    assertEquals([r.status, r.body], [400, { error_code: "BAD_REQUEST", message }], JSON.stringify(body));
  }
  const missing = await invoke(te, { messages: [user("x")] }, { endpoint: "nope" });
  assertEquals([missing.status, missing.body.error_code], [404, "RESOURCE_DOES_NOT_EXIST"]);
});

Deno.test("the OpenAI-compatible route: POST /serving-endpoints/chat/completions with the endpoint as model", async () => {
  await using te = testEmulator();
  const r = await te.post("/serving-endpoints/chat/completions", {
    model: LLAMA,
    messages: [user("upper: ok")],
  });
  assertEquals([r.status, r.body.choices[0].message.content], [200, "OK"]);
  const noModel = await te.post("/serving-endpoints/chat/completions", { messages: [user("x")] });
  assertEquals([noModel.status, noModel.body.message], [400, 'Missing required field "model".']);
});

Deno.test("an execution context's own token is accepted for invocations and recorded as the context's", async () => {
  await using te = testEmulator();
  const cluster = await te.clusterId("analytics-shared-ml");
  const created = await te.post("/api/1.2/contexts/create", { clusterId: cluster, language: "python" });
  const ctx = te.emu.control.contexts().contexts.find((c) => c.id === created.body.id)!;
  const r = await invoke(te, { messages: [user("echo: via the context token")] }, { token: ctx.api_token });
  assertEquals([r.status, r.body.choices[0].message.content], [200, "via the context token"]);
  assertEquals(te.emu.control.requests().at(-1)!.auth, `context:${ctx.id}`);
  assertEquals(te.emu.control.contexts().contexts[0].api_token_uses, 1);
  assert(!JSON.stringify(te.emu.control.requests()).includes(ctx.api_token), "the log hides the token");
});

Deno.test("over HTTP, code in a context reaches the endpoint with its apiUrl() and apiToken()", async () => {
  await using srv = await served();
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${srv.host}${path}`, {
      method,
      headers: { authorization: `Bearer ${srv.emulator.token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return await res.json();
  };
  const clusters = await call("GET", "/api/2.1/clusters/list");
  const clusterId =
    clusters.clusters.find((c: { cluster_name: string }) => c.cluster_name === "analytics-shared-ml")
      .cluster_id;
  const { id: contextId } = await call("POST", "/api/1.2/contexts/create", { clusterId, language: "python" });
  const command = [
    "import json, urllib.request",
    "nb = dbutils.notebook.entry_point.getDbutils().notebook().getContext()",
    "req = urllib.request.Request(",
    "    nb.apiUrl().get() + '/serving-endpoints/default-llm-endpoint/invocations',",
    "    data=json.dumps({'messages': [{'role': 'user', 'content': 'echo: hello from the context'}]}).encode(),",
    "    headers={'Authorization': 'Bearer ' + nb.apiToken().get(), 'Content-Type': 'application/json'})",
    "opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))",
    "print(json.load(opener.open(req, timeout=10))['choices'][0]['message']['content'])",
  ].join("\n");
  const { id: commandId } = await call("POST", "/api/1.2/commands/execute", {
    clusterId,
    contextId,
    language: "python",
    command,
  });
  let status: { status: string; results?: { data?: string } } = { status: "Queued" };
  const end = Date.now() + 20_000;
  while (!["Finished", "Error", "Cancelled"].includes(status.status) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
    status = await call(
      "GET",
      `/api/1.2/commands/status?clusterId=${clusterId}&contextId=${contextId}&commandId=${commandId}`,
    );
  }
  assertEquals(status.results, { resultType: "text", data: "hello from the context" });
  const invocation = srv.emulator.control.requests().find((e) => e.path.endsWith("/invocations"))!;
  assertEquals([invocation.status, invocation.auth], [200, `context:${contextId}`]);
});
