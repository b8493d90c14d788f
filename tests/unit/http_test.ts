import {
  ApiClient,
  type ApiClientOptions,
  buildUserAgent,
  type Credentials,
  encodePath,
  encodeQuery,
  parseErrorBody,
} from "../../src/api/http.ts";
import * as commands from "../../src/api/commands.ts";
import { Utf8Chunks } from "../../src/utf8.ts";
import { DbxrError } from "../../src/errors.ts";
import { assert, assertEquals, assertMatch, assertRejects, assertStringIncludes } from "../helpers/assert.ts";
import {
  brokenBodyResponse,
  connectionRefused,
  connectionReset,
  fakeCtx,
  type FakeCtxOptions,
  jsonResponse,
  scriptedFetch,
} from "../helpers/fake_ctx.ts";

const HOST = "https://dbc-1.cloud.databricks.com";
const PAT = "dapi0123456789abcdef0123456789abcdef";

function pat(token = PAT): Credentials {
  return { authType: "pat", header: () => Promise.resolve(`Bearer ${token}`), invalidate() {} };
}

/** OAuth-like credentials that hand out tok1, tok2, … and count invalidations. */
function rotating() {
  let n = 1;
  const state = { invalidated: 0, issued: 0 };
  const creds: Credentials = {
    authType: "oauth-m2m",
    header: () => {
      state.issued++;
      return Promise.resolve(`Bearer oauth-token-${n}`);
    },
    invalidate() {
      state.invalidated++;
      n++;
    },
  };
  return { creds, state };
}

function setup(
  steps: Parameters<typeof scriptedFetch>[0],
  opts: { ctx?: FakeCtxOptions; client?: Partial<ApiClientOptions> } = {},
) {
  const fetch = scriptedFetch(steps);
  const f = fakeCtx({ ...opts.ctx, fetch });
  const client = new ApiClient(f.ctx, {
    host: HOST,
    credentials: pat(),
    userAgent: "dbxr/test",
    profile: "dev",
    ...opts.client,
  });
  return { ...f, client, fetch };
}

async function apiError(p: Promise<unknown>): Promise<DbxrError> {
  const e = await assertRejects(() => p);
  assert(e instanceof DbxrError, `expected a DbxrError, got ${e}`);
  return e;
}

// --- error bodies -----------------------------------------------------------------------------------------

Deno.test("http: Databricks {error_code, message, details} → ApiError with code, status, request id", async () => {
  const { client } = setup([
    jsonResponse({
      error_code: "INVALID_STATE",
      message: "Cluster 0101 is in unexpected state Running.",
      details: [{
        "@type": "type.googleapis.com/google.rpc.RequestInfo",
        request_id: "req-9",
        serving_data: "",
      }],
    }, 400),
  ]);
  const e = await apiError(client.post("/api/2.1/clusters/start", { cluster_id: "0101" }));
  assertEquals(e.code, "ApiError");
  assertEquals(e.message, "Cluster 0101 is in unexpected state Running.");
  assertEquals(e.details, {
    http_status: 400,
    error_code: "INVALID_STATE",
    request_id: "req-9",
    method: "POST",
    path: "/api/2.1/clusters/start",
  });
});

Deno.test("http: 404 and RESOURCE_DOES_NOT_EXIST → NotFound; x-request-id header kept", async () => {
  const { client } = setup([
    jsonResponse({ error_code: "RESOURCE_DOES_NOT_EXIST", message: "Path (/x) doesn't exist." }, 404, {
      "x-request-id": "abc",
    }),
    jsonResponse({ error_code: "RESOURCE_DOES_NOT_EXIST", message: "gone" }, 400),
  ]);
  const e = await apiError(client.get("/api/2.0/workspace/get-status", { path: "/x" }));
  assertEquals(e.code, "NotFound");
  assertEquals(e.details.request_id, "abc");
  assertEquals(e.details.path, "/api/2.0/workspace/get-status");
  assertEquals((await apiError(client.get("/api/2.0/x"))).code, "NotFound");
});

Deno.test("http: the 400 'does not exist' overrides → NotFound only where the SDKs apply them", async () => {
  const missing = () =>
    jsonResponse({ error_code: "INVALID_PARAMETER_VALUE", message: "Cluster 0101-x does not exist" }, 400);
  const { client } = setup([
    missing(),
    jsonResponse({ error_code: "INVALID_PARAMETER_VALUE", message: "Job 12 does not exist." }, 400),
    jsonResponse({ error_code: "INVALID_PARAMETER_VALUE", message: "Run: 5 in job: 3 doesn't exist" }, 400),
    missing(),
  ]);
  assertEquals(
    (await apiError(client.get("/api/2.1/clusters/get", { cluster_id: "0101-x" }))).code,
    "NotFound",
  );
  assertEquals((await apiError(client.get("/api/2.2/jobs/get", { job_id: 12 }))).code, "NotFound");
  assertEquals((await apiError(client.get("/api/2.2/jobs/runs/get", { run_id: 5 }))).code, "NotFound");
  assertEquals((await apiError(client.post("/api/2.1/clusters/edit", {}))).code, "ApiError");
});

Deno.test("http: API 1.2 {error} → message, no error_code", async () => {
  const { client } = setup([jsonResponse({ error: "requirement failed: missing contextId" }, 400)]);
  const e = await apiError(client.post("/api/1.2/commands/execute", {}));
  assertEquals(e.code, "ApiError");
  assertEquals(e.message, "requirement failed: missing contextId");
  assertEquals(e.details.error_code, undefined);
});

Deno.test("http: SCIM {detail, status, scimType}", async () => {
  const { client } = setup([
    jsonResponse({
      schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
      detail: "User not found",
      status: "404",
      scimType: "invalidValue",
    }, 404),
  ]);
  const e = await apiError(client.get("/api/2.0/preview/scim/v2/Me"));
  assertEquals(e.code, "NotFound");
  assertEquals(e.message, "invalidValue User not found");
  assertEquals(e.details.error_code, "SCIM_404");
});

Deno.test("http: error body shapes", () => {
  const table: Array<[number, string, string, string | undefined]> = [
    [400, "INVALID_STATE: cluster is busy", "cluster is busy", "INVALID_STATE"],
    [
      502,
      "<html><head><title>502 Bad Gateway</title></head><body><pre>upstream &lt;timeout&gt;</pre></body></html>",
      "upstream <timeout>",
      undefined,
    ],
    [
      503,
      "<html><head><title>Service Unavailable</title></head><body>x</body></html>",
      "Service Unavailable",
      undefined,
    ],
    [500, "", "Internal Server Error", undefined],
    [500, "   ", "Internal Server Error", undefined],
    [418, "something odd", "something odd", undefined],
    [
      400,
      '{"error":"invalid_client","error_description":"Client authentication failed"}',
      "invalid_client: Client authentication failed",
      undefined,
    ],
    [400, '{"errorCode":"invalid_request","errorSummary":"bad"}', "bad", "invalid_request"],
    [500, '{"detail":"null","status":"500"}', "SCIM API Internal Error", "SCIM_500"],
    [400, '{"error_code": 1234, "message": "numeric code"}', "numeric code", "1234"],
    [400, '{"error_code": "X"}', "X", "X"],
    [400, "[1,2]", "[1,2]", undefined],
  ];
  for (const [status, body, message, code] of table) {
    const p = parseErrorBody(status, "", body);
    assertEquals(p.message, message, body);
    assertEquals(p.errorCode, code, body);
  }
});

Deno.test("http: 401 → AuthError naming host, profile and auth type, with the describe hint", async () => {
  const { client } = setup([
    jsonResponse({ error_code: "UNAUTHENTICATED", message: "Invalid access token." }, 401),
  ]);
  const e = await apiError(client.get("/api/2.1/clusters/list"));
  assertEquals(e.code, "AuthError");
  assertEquals(e.hint, "dbxr auth describe --profile dev");
  assertEquals(e.message, `Invalid access token. (host ${HOST}, profile dev, auth pat)`);
  assertEquals(e.details.auth_type, "pat");
  assert(!JSON.stringify(e.toJSON()).includes(PAT));
});

Deno.test("http: 403 → PermissionDenied", async () => {
  const { client } = setup([jsonResponse({ error_code: "PERMISSION_DENIED", message: "no" }, 403)]);
  const e = await apiError(client.get("/api/2.1/clusters/get", { cluster_id: "1" }));
  assertEquals(e.code, "PermissionDenied");
  assertEquals(e.hint, "dbxr auth describe --profile dev");
});

Deno.test("http: 403 Invalid access token. → AuthError, not PermissionDenied", async () => {
  const { client } = setup([jsonResponse({ error_code: "403", message: "Invalid access token." }, 403)]);
  const e = await apiError(client.get("/api/2.1/clusters/list"));
  assertEquals(e.code, "AuthError");
  assertEquals(e.hint, "dbxr auth describe --profile dev");
});

Deno.test("http: 429 that never clears → RateLimited after the retries, each wait recorded", async () => {
  const busy = () =>
    jsonResponse({ error_code: "RESOURCE_EXHAUSTED", message: "slow down" }, 429, { "retry-after": "1" });
  const { client, sleeps, requests } = setup([busy(), busy(), busy()], {
    client: { retry: { maxAttempts: 3 } },
    ctx: { random: [0] },
  });
  const e = await apiError(client.get("/api/2.1/clusters/list"));
  assertEquals(e.code, "RateLimited");
  assertEquals(e.message, "slow down");
  assertEquals(e.details.attempts, 3);
  assertEquals(sleeps, [1000, 1000]);
  assertEquals(requests.length, 3);
});

Deno.test("http: REQUEST_LIMIT_EXCEEDED is retried, then RateLimited", async () => {
  const limit = () => jsonResponse({ error_code: "REQUEST_LIMIT_EXCEEDED", message: "cluster limit" }, 400);
  const { client, sleeps } = setup([limit(), limit()], { client: { retry: { maxAttempts: 2 } } });
  assertEquals((await apiError(client.post("/api/2.1/clusters/create", {}))).code, "RateLimited");
  assertEquals(sleeps.length, 1);
});

// --- retries --------------------------------------------------------------------------------------------------

Deno.test("http: 503 then 200 succeeds after one backoff", async () => {
  const { client, sleeps } = setup([
    new Response("", { status: 503 }),
    jsonResponse({ clusters: [] }),
  ], { ctx: { random: [1] } });
  assertEquals(await client.get("/api/2.1/clusters/list"), { clusters: [] });
  assertEquals(sleeps, [1000]);
});

Deno.test("http: Retry-After is honoured", async () => {
  const { client, sleeps } = setup([
    jsonResponse({ error_code: "TOO_MANY_REQUESTS", message: "x" }, 429, { "Retry-After": "2" }),
    jsonResponse({ ok: true }),
  ], { ctx: { random: [0.5] } });
  await client.get("/api/2.1/clusters/list");
  assertEquals(sleeps, [2125]);
});

Deno.test("http: ClusterNotReadyException on contexts/create (a POST) is retried", async () => {
  const { client, requests } = setup([
    jsonResponse({ error: "ClusterNotReadyException: cluster not ready" }, 500),
    jsonResponse({ id: "ctx-1" }),
  ]);
  assertEquals(await client.post("/api/1.2/contexts/create", { clusterId: "c", language: "python" }), {
    id: "ctx-1",
  });
  assertEquals(requests.length, 2);
  assertEquals(requests[1].body, '{"clusterId":"c","language":"python"}');
});

Deno.test("http: plain 500 is not retried", async () => {
  const { client, requests } = setup([jsonResponse({ error_code: "INTERNAL_ERROR", message: "boom" }, 500)]);
  assertEquals((await apiError(client.get("/api/2.1/clusters/list"))).code, "ApiError");
  assertEquals(requests.length, 1);
});

Deno.test("http: connection refused is retried even for a POST", async () => {
  const { client, requests } = setup([connectionRefused(), jsonResponse({ command_id: "c1" })]);
  assertEquals(await client.post("/api/1.2/commands/execute", { x: 1 }), { command_id: "c1" });
  assertEquals(requests.length, 2);
});

Deno.test("http: a reset after sending a POST is not repeated", async () => {
  const { client, requests } = setup([connectionReset()]);
  const e = await apiError(client.post("/api/1.2/commands/execute", { x: 1 }));
  assertEquals(e.code, "NetworkError");
  assertEquals(e.details.may_have_reached_server, true);
  assertStringIncludes(e.message, "may have reached the server");
  assertEquals(requests.length, 1);
});

Deno.test("http: a reset is retried for GET and for a POST marked idempotent", async () => {
  const g = setup([connectionReset(), jsonResponse({ a: 1 })]);
  assertEquals(await g.client.get("/api/2.1/clusters/get", { cluster_id: "1" }), { a: 1 });
  const p = setup([connectionReset(), jsonResponse({})]);
  assertEquals(
    await p.client.post("/api/2.1/clusters/delete", { cluster_id: "1" }, { idempotent: true }),
    {},
  );
  assertEquals(p.requests.length, 2);
});

Deno.test("http: a body that fails after a 200 is part of the attempt: retried for GET", async () => {
  const { client, requests } = setup([
    brokenBodyResponse(),
    jsonResponse({ clusters: [{ cluster_id: "x" }] }),
  ]);
  assertEquals(await client.get("/api/2.1/clusters/list"), { clusters: [{ cluster_id: "x" }] });
  assertEquals(requests.length, 2);
});

Deno.test("http: a body that fails after a 200 on a POST is a NetworkError", async () => {
  const { client } = setup([brokenBodyResponse(200, '{"id":')]);
  const e = await apiError(client.post("/api/1.2/contexts/create", {}));
  assertEquals(e.code, "NetworkError");
  assertStringIncludes(e.message, "error reading the response body");
});

Deno.test("http: network failures that outlast the retries → NetworkError with the attempts", async () => {
  const { client, sleeps } = setup([connectionRefused(), connectionRefused(), connectionRefused()], {
    client: { retry: { maxAttempts: 3 } },
  });
  const e = await apiError(client.get("/api/2.1/clusters/list"));
  assertEquals(e.code, "NetworkError");
  assertEquals(e.details.attempts, 3);
  assertEquals(e.details.phase, "connect");
  assertEquals(e.hint, "dbxr doctor");
  assertEquals(sleeps.length, 2);
});

Deno.test("http: the retry budget bounds the total time", async () => {
  const busy = () => new Response("", { status: 503, headers: { "retry-after": "20" } });
  const { client, sleeps } = setup([busy(), busy(), busy(), busy()], {
    client: { retry: { budgetMs: 45_000 } },
  });
  assertEquals((await apiError(client.get("/api/2.1/clusters/list"))).code, "ApiError");
  assertEquals(sleeps.length, 2);
});

Deno.test("http: a per-request timeout aborts a hung attempt", async () => {
  const hang = (req: Request) =>
    new Promise<Response>((_, reject) =>
      req.signal.addEventListener("abort", () => reject(req.signal.reason))
    );
  const { client } = setup([hang], { client: { retry: { maxAttempts: 1 } } });
  const e = await apiError(client.get("/api/2.1/clusters/list", undefined, { timeoutMs: 20 }));
  assertEquals(e.code, "NetworkError");
  assertEquals(e.details.timed_out, true);
  assertStringIncludes(e.message, "timed out");
});

Deno.test("http: Ctrl-C aborts: the abort is rethrown and nothing is retried", async () => {
  const late: { abort?: () => void } = {};
  const hang = (req: Request) => {
    queueMicrotask(() => late.abort?.());
    return new Promise<Response>((_, reject) =>
      req.signal.addEventListener("abort", () => reject(req.signal.reason))
    );
  };
  const f = setup([hang, jsonResponse({})]);
  late.abort = () => f.abort();
  const e = await assertRejects(() => f.client.get("/api/2.1/clusters/list"));
  assert(e instanceof DOMException && e.name === "AbortError", String(e));
  assertEquals(f.requests.length, 1);
  assertEquals(f.fetch.remaining(), 1);
});

Deno.test("http: an abort during a retry wait stops the wait", async () => {
  const f = setup([new Response("", { status: 503 }), jsonResponse({})]);
  const realSleep = f.ctx.sleep;
  f.ctx.sleep = (ms, signal) => {
    f.abort();
    return realSleep(ms, signal);
  };
  const e = await assertRejects(() => f.client.get("/api/2.1/clusters/list"));
  assert(e instanceof DOMException && e.name === "AbortError", String(e));
  assertEquals(f.requests.length, 1);
});

// --- auth refresh, permissions -------------------------------------------------------------------------------

Deno.test("http: one credential refresh on 401, then success", async () => {
  const { creds, state } = rotating();
  const { client, requests } = setup([
    jsonResponse({ error_code: "UNAUTHENTICATED", message: "Token expired" }, 401),
    jsonResponse({ userName: "me" }),
  ], { client: { credentials: creds } });
  assertEquals(await client.get("/api/2.0/preview/scim/v2/Me"), { userName: "me" });
  assertEquals(state.invalidated, 1);
  assertEquals(requests.map((r) => r.headers.authorization), [
    "Bearer oauth-token-1",
    "Bearer oauth-token-2",
  ]);
});

Deno.test("http: a 403 for an expired token refreshes too; a plain 403 does not", async () => {
  const { creds, state } = rotating();
  const o = setup([
    jsonResponse({ error_code: "403", message: "Token is expiring within 30 seconds. (token expired)" }, 403),
    jsonResponse({ ok: 1 }),
    jsonResponse({ error_code: "PERMISSION_DENIED", message: "User cannot access cluster" }, 403),
  ], { client: { credentials: creds } });
  assertEquals(await o.client.get("/api/2.0/x"), { ok: 1 });
  assertEquals(state.invalidated, 1);
  assertEquals((await apiError(o.client.get("/api/2.0/y"))).code, "PermissionDenied");
  assertEquals(state.invalidated, 1);
  assertEquals(o.requests.length, 3);
});

Deno.test("http: a second 401 is an AuthError; a PAT is not refreshed at all", async () => {
  const unauth = () => jsonResponse({ error_code: "UNAUTHENTICATED", message: "nope" }, 401);
  const { creds, state } = rotating();
  const o = setup([unauth(), unauth()], { client: { credentials: creds } });
  assertEquals((await apiError(o.client.get("/api/2.0/x"))).code, "AuthError");
  assertEquals(state.invalidated, 1);
  const p = setup([unauth()]);
  assertEquals((await apiError(p.client.get("/api/2.0/x"))).code, "AuthError");
  assertEquals(p.requests.length, 1);
});

Deno.test("http: a host outside --allow-net → HostNotAllowed naming it and how to allow it", async () => {
  const { client } = setup([new Deno.errors.NotCapable('Requires net access to "dbx.corp.example:443"')], {
    client: { host: "https://dbx.corp.example" },
  });
  const e = await apiError(client.get("/api/2.1/clusters/list"));
  assertEquals(e.code, "HostNotAllowed");
  assertEquals(e.hint, "deno run $(cat scripts/permission_flags.txt) --allow-net=dbx.corp.example main.ts …");
  assertStringIncludes(e.message, "dbx.corp.example");
  assertStringIncludes(e.message, "Permissions and custom hosts");
  assertEquals(e.details.host, "dbx.corp.example");
});

// --- requests, responses, tracing ---------------------------------------------------------------------------

Deno.test("http: headers, JSON body, query encoding; an empty body is {}", async () => {
  const { client, requests } = setup([new Response("", { status: 200 }), jsonResponse({})]);
  assertEquals(
    await client.get("/api/2.1/clusters/list", {
      filter_by: { cluster_states: ["RUNNING", "PENDING"], is_pinned: true },
      page_size: 100,
      page_token: undefined,
    }),
    {},
  );
  await client.post("/api/2.1/clusters/start", { cluster_id: "c" });
  const [g, p] = requests;
  assertEquals(
    g.url,
    `${HOST}/api/2.1/clusters/list?filter_by.cluster_states=RUNNING&filter_by.cluster_states=PENDING&filter_by.is_pinned=true&page_size=100`,
  );
  assertEquals(g.headers.authorization, `Bearer ${PAT}`);
  assertEquals(g.headers["user-agent"], "dbxr/test");
  assertEquals(g.headers.accept, "application/json");
  assertEquals(g.body, "");
  assertEquals(p.method, "POST");
  assertEquals(p.headers["content-type"], "application/json");
  assertEquals(p.body, '{"cluster_id":"c"}');
});

Deno.test("http: form and raw bodies, text and bytes responses", async () => {
  const { client, requests } = setup([
    new Response("plain"),
    new Response(new Uint8Array([1, 2, 3])),
  ]);
  assertEquals(
    await client.request<string>({ method: "POST", path: "/x", form: { a: "1 2" }, responseType: "text" }),
    "plain",
  );
  assertEquals(
    await client.request<Uint8Array>({
      method: "PUT",
      path: "/api/2.0/fs/files/Volumes/a b",
      rawBody: new Uint8Array([9]),
      responseType: "bytes",
    }),
    new Uint8Array([1, 2, 3]),
  );
  assertEquals(requests[0].headers["content-type"], "application/x-www-form-urlencoded");
  assertEquals(requests[0].body, "a=1+2");
  assertEquals(requests[1].headers["content-type"], "application/octet-stream");
});

Deno.test("http: a 200 that is not JSON is an ApiError", async () => {
  const { client } = setup([new Response("<html>login</html>", { status: 200 })]);
  const e = await apiError(client.get("/api/2.1/clusters/list"));
  assertEquals(e.code, "ApiError");
  assertStringIncludes(e.message, "not JSON");
});

Deno.test("http: --debug traces requests and responses, with no secret in them", async () => {
  const token = "emulator-secret-token-123";
  const { client, stderr } = setup([
    jsonResponse({ error_code: "TEMPORARILY_UNAVAILABLE", message: "later" }, 503, { "x-request-id": "r-1" }),
    jsonResponse(
      { access_token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", apiToken: token, note: `echo ${token}` },
      200,
      { "x-request-id": "r-2", "x-databricks-org-id": "42" },
    ),
  ], { ctx: { debug: true }, client: { credentials: pat(token) } });
  await client.post("/api/2.0/token/create", { comment: "c", password: "hunter2", token: PAT }, {
    idempotent: true,
  });
  const err = stderr();
  assertMatch(err, /\[debug\] > POST \/api\/2\.0\/token\/create\n\[debug\] > \{"comment":"c",/);
  assertMatch(err, /\[debug\] < 503 Service Unavailable \d+ ms x-request-id=r-1/);
  assertMatch(err, /retrying in \d+ ms \(HTTP 503\)/);
  assertMatch(err, /> POST \/api\/2\.0\/token\/create \(attempt 2\)/);
  assertMatch(err, /< 200 OK \d+ ms x-request-id=r-2 x-databricks-org-id=42/);
  for (const secret of [token, PAT, "hunter2", "eyJhbGciOiJIUzI1NiJ9"]) {
    assert(!err.includes(secret), `${secret} leaked into:\n${err}`);
  }
  assertStringIncludes(err, '"comment":"c"');
});

Deno.test("http: no trace without --debug", async () => {
  const { client, stderr } = setup([jsonResponse({})]);
  await client.get("/api/2.1/clusters/list");
  assertEquals(stderr(), "");
});

Deno.test("http: bodies in traces are cut to about 2 KB", async () => {
  const sized = { "content-length": "10010" }; // a small body of known size is decoded whole
  const { client, stderr } = setup([jsonResponse({ big: "x".repeat(10_000) }, 200, sized)], {
    ctx: { debug: true },
  });
  await client.get("/api/2.1/clusters/list");
  assert(stderr().length < 3000, `${stderr().length}`);
  assertMatch(stderr(), /… \(10\d{3} chars\)/);
  // A body of unknown size is parsed as it comes, never held whole: its start and its size in bytes.
  const unsized = setup([
    new Response(new Blob([JSON.stringify({ big: "x".repeat(10_000) })]).stream(), {
      headers: { "content-type": "application/json" },
    }),
  ], { ctx: { debug: true } });
  await unsized.client.get("/api/2.1/clusters/list");
  assert(unsized.stderr().length < 3000, `${unsized.stderr().length}`);
  assertMatch(unsized.stderr(), /\{"big":"xxx.*… \(10010 bytes\)/);
});

Deno.test("http: User-Agent, encodeQuery, encodePath", () => {
  assertEquals(
    buildUserAgent({ authType: "pat", command: "cluster list", deno: "2.9.6", os: "linux" }),
    "dbxr/0.1.0 deno/2.9.6 os/linux auth/pat cmd/cluster_list",
  );
  assertMatch(buildUserAgent({}), /^dbxr\/\S+ deno\/\S+ os\/\S+$/);
  assertEquals(
    encodeQuery({ a: [1, 2], b: { c: { d: false } }, e: null, f: "x y&z" }),
    "a=1&a=2&b.c.d=false&f=x+y%26z",
  );
  assertEquals(encodePath("/Volumes/c/s/v/a b#.txt"), "/Volumes/c/s/v/a%20b%23.txt");
});

Deno.test("a large JSON body (parsed from its bytes) gives what JSON.parse gives", async () => {
  const data = 'line é€😀 "quoted" \\ \t\n'.repeat(60_000); // > 1 MiB, every kind of escape
  const body = {
    id: "c1",
    status: "Finished",
    results: { resultType: "text", data },
    n: [1, 2.5, null, true],
  };
  const chunked = new ReadableStream<Uint8Array>({
    start(c) {
      const bytes = new TextEncoder().encode(JSON.stringify(body));
      for (let i = 0; i < bytes.length; i += 70_000) c.enqueue(bytes.slice(i, i + 70_000));
      c.close();
    },
  });
  const { client } = setup([
    jsonResponse(body),
    new Response(chunked, { headers: { "content-type": "application/json" } }),
  ]);
  assertEquals(await client.get("/api/1.2/commands/status"), body);
  assertEquals(await client.get("/api/1.2/commands/status"), body);
});

Deno.test("commands/status: a large answer's output comes as its UTF-8 bytes, a small one's as text", async () => {
  const big = 'out é€😀 "q"\n'.repeat(80_000); // > 1 MiB
  const answer = (data: string) => ({ id: "c1", status: "Finished", results: { resultType: "text", data } });
  const small = JSON.stringify(answer("small"));
  const { client } = setup([
    jsonResponse(answer(big)),
    jsonResponse(answer("small"), 200, { "content-length": String(small.length) }),
    jsonResponse(answer("small")),
    jsonResponse(answer(big)),
  ]);
  const ids = { clusterId: "k", contextId: "x", commandId: "c1" };
  const large = await commands.commandStatus(client, ids);
  assert(large.results?.data instanceof Utf8Chunks);
  assertEquals(large.results.data.text(), big);
  assertEquals(large.status, "Finished");
  assertEquals((await commands.commandStatus(client, ids)).results?.data, "small");
  // Of unknown size (chunked, compressed): parsed as it comes, the output kept as bytes whatever its size.
  const unsized = await commands.commandStatus(client, ids);
  assert(unsized.results?.data instanceof Utf8Chunks);
  assertEquals(unsized.results.data.text(), "small");
  // Other calls are not affected: a large answer's strings are strings.
  assertEquals(await client.get("/api/1.2/commands/status"), answer(big));
});

Deno.test("a large 200 body that is not JSON is an ApiError quoting its start", async () => {
  const { client } = setup([new Response("<html>" + "x".repeat(2 * 1024 * 1024), { status: 200 })]);
  const e = await apiError(client.get("/api/1.2/commands/status"));
  assertEquals(e.code, "ApiError");
  assertStringIncludes(e.message, "not JSON: <html>xxx");
});
