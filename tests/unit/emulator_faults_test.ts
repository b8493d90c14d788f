import { deepStrictEqual as assertEquals, ok as assert, rejects, throws } from "node:assert/strict";
import { ControlError } from "../../src/emulator/control.ts";
import { EMULATOR_ORIGIN, testEmulator } from "../helpers/emulator.ts";

const GET = "/api/2.1/clusters/get";

Deno.test("429 fault: REQUEST_LIMIT_EXCEEDED with Retry-After (1 s by default), once", async () => {
  await using te = testEmulator();
  const id = await te.clusterId("team-shared");
  te.emu.control.fault({ match: `GET ${GET}`, status: 429 });
  const r = await te.get(`${GET}?cluster_id=${id}`);
  assertEquals(r.status, 429);
  assertEquals(r.headers.get("retry-after"), "1");
  assertEquals(r.body, {
    error_code: "REQUEST_LIMIT_EXCEEDED",
    message: "ClustersGetRequest RPC token bucket limit has been exceeded.",
  });
  assertEquals((await te.get(`${GET}?cluster_id=${id}`)).status, 200, "times defaults to 1");
});

Deno.test("times counts hits; retry_after (or retryAfter) sets the header", async () => {
  await using te = testEmulator();
  te.emu.control.fault({ match: "GET /api/2.1/clusters/list", status: 429, times: 2, retryAfter: 3 });
  assertEquals(te.emu.control.faults()[0].remaining, 2);
  const first = await te.get("/api/2.1/clusters/list");
  assertEquals([first.status, first.headers.get("retry-after")], [429, "3"]);
  assertEquals(te.emu.control.faults()[0].remaining, 1);
  assertEquals((await te.get("/api/2.1/clusters/list")).status, 429);
  assertEquals(te.emu.control.faults(), []);
  assertEquals((await te.get("/api/2.1/clusters/list")).status, 200);
});

Deno.test("503 fault: TEMPORARILY_UNAVAILABLE naming the service; no Retry-After unless asked", async () => {
  await using te = testEmulator();
  te.emu.control.fault({ match: "GET /api/2.1/clusters/list", status: 503 });
  const r = await te.get("/api/2.1/clusters/list");
  assertEquals(r.status, 503);
  assertEquals(r.headers.get("retry-after"), null);
  assertEquals(r.body, {
    error_code: "TEMPORARILY_UNAVAILABLE",
    message: "The service at /api/2.1/clusters/list is temporarily unavailable. Please try again later.",
  });
});

Deno.test("a fault on an API 1.2 path answers in the 1.2 shape", async () => {
  await using te = testEmulator();
  te.emu.control.fault({ match: "POST /api/1.2/contexts/create", status: 500 });
  const r = await te.post("/api/1.2/contexts/create", { clusterId: "x", language: "python" });
  assertEquals(r.status, 500);
  assertEquals(r.body, { error: "Internal Server Error" });
});

Deno.test("a custom body is sent as given, JSON or text", async () => {
  await using te = testEmulator();
  te.emu.control.fault([
    {
      match: "GET /api/2.1/clusters/list",
      status: 500,
      body: { error_code: "INTERNAL_ERROR", message: "boom" },
    },
    {
      match: "GET /api/2.1/clusters/spark-versions",
      status: 502,
      body: "<html><pre>Bad Gateway</pre></html>",
    },
  ]);
  assertEquals((await te.get("/api/2.1/clusters/list")).body, {
    error_code: "INTERNAL_ERROR",
    message: "boom",
  });
  const html = await te.get("/api/2.1/clusters/spark-versions");
  assertEquals([html.status, html.text, html.headers.get("content-type")], [
    502,
    "<html><pre>Bad Gateway</pre></html>",
    "text/plain; charset=utf-8",
  ]);
});

Deno.test("drop: the response body stream fails, so reading it throws; logged with status 0", async () => {
  await using te = testEmulator();
  te.emu.control.fault({ match: "GET /api/2.1/clusters/list", drop: true });
  const res = await te.emu.handle(
    new Request(`${EMULATOR_ORIGIN}/api/2.1/clusters/list`, {
      headers: { authorization: `Bearer ${te.emu.token}` },
    }),
  );
  await rejects(() => res.text(), /connection dropped/);
  const last = te.emu.control.requests().at(-1)!;
  assertEquals([last.status, last.fault], [0, "drop"]);
  assertEquals((await te.get("/api/2.1/clusters/list")).status, 200);
});

Deno.test("path_regex with a method, a trailing-* prefix, and any method", async () => {
  await using te = testEmulator();
  te.emu.control.fault({
    match: { method: "POST", path_regex: "^/api/2\\.[01]/clusters/(start|restart)$" },
    status: 503,
    times: 5,
  });
  assertEquals((await te.get(`${GET}?cluster_id=x`)).status, 400, "GET is not matched");
  assertEquals((await te.post("/api/2.0/clusters/start", { cluster_id: "x" })).status, 503);
  assertEquals((await te.post("/api/2.1/clusters/restart", { cluster_id: "x" })).status, 503);
  te.emu.control.clearFaults();

  te.emu.control.fault({ match: "* /api/2.1/clusters/*", status: 500, times: 2 });
  assertEquals((await te.get("/api/2.1/clusters/list")).status, 500);
  assertEquals((await te.post("/api/2.1/clusters/delete", { cluster_id: "x" })).status, 500);
  assertEquals((await te.get("/api/2.1/clusters/list")).status, 200);

  te.emu.control.fault({ match: "/api/2.0/preview/scim/v2/Me", status: 500 });
  assertEquals((await te.get("/api/2.0/preview/scim/v2/Me")).status, 500);
});

Deno.test("skip lets the first N matching requests through", async () => {
  await using te = testEmulator();
  te.emu.control.fault({ match: "GET /api/2.1/clusters/list", status: 503, skip: 2 });
  assertEquals((await te.get("/api/2.1/clusters/list")).status, 200);
  assertEquals((await te.get("/api/2.1/clusters/list")).status, 200);
  assertEquals((await te.get("/api/2.1/clusters/list")).status, 503);
  assertEquals((await te.get("/api/2.1/clusters/list")).status, 200);
});

Deno.test("faults sit before authentication, like a gateway", async () => {
  await using te = testEmulator();
  te.emu.control.fault({ match: "GET /api/2.1/clusters/list", status: 503 });
  assertEquals((await te.get("/api/2.1/clusters/list", { token: null })).status, 503);
  te.emu.control.fault({ match: "POST /oidc/v1/token", status: 503 });
  assertEquals(
    (await te.post("/oidc/v1/token", "grant_type=client_credentials", { token: null })).status,
    503,
  );
});

Deno.test("latency: a latency_ms fault delays one answer; setLatency delays every API answer", async () => {
  await using te = testEmulator();
  te.emu.control.fault({ match: "GET /api/2.1/clusters/list", latency_ms: 40 });
  let t = performance.now();
  assertEquals((await te.get("/api/2.1/clusters/list")).status, 200);
  assert(performance.now() - t >= 35, "the fault's latency applies");
  assertEquals(te.emu.control.requests().at(-1)!.fault, "latency");
  t = performance.now();
  await te.get("/api/2.1/clusters/list");
  assert(performance.now() - t < 35, "only once");

  te.emu.control.setLatency(30);
  t = performance.now();
  await te.get("/api/2.0/preview/scim/v2/Me");
  assert(performance.now() - t >= 25);
  t = performance.now();
  await te.get("/__emulator/health");
  assert(performance.now() - t < 25, "control calls are not delayed");
});

Deno.test("close() cuts pending latency short and later requests are refused", async () => {
  const te = testEmulator({ latencyMs: 60_000 });
  const pending = te.get("/api/2.1/clusters/list");
  await te.emu.close();
  assertEquals((await pending).status, 200);
  assertEquals((await te.get("/api/2.1/clusters/list")).status, 503);
  await te.emu.close();
});

Deno.test("bad fault specs are refused, in process and over HTTP", async () => {
  await using te = testEmulator();
  const { control } = te.emu;
  throws(() => control.fault({ match: "GET no-slash", status: 500 }), ControlError);
  throws(() => control.fault({ match: "GET /x" }), /at least one of status, drop or latency_ms/);
  throws(() => control.fault({ match: "GET /x", status: 99 }), ControlError);
  throws(() => control.fault({ match: "GET /x", status: 500, times: 0 }), /positive integer/);
  throws(() => control.fault({ match: { path_regex: "(" }, status: 500 }), /regular expression/);
  throws(() => control.fault({ match: "GET /x", status: 500, drop: true }), ControlError);
  assertEquals(control.faults(), [], "nothing half-added");
  const r = await te.post("/__emulator/faults", [{ match: "GET /x" }], { token: null });
  assertEquals(r.status, 400);
  assert(r.body.error.includes("at least one of"));
});

Deno.test("faults over HTTP: POST a list or {faults}, GET them, DELETE them", async () => {
  await using te = testEmulator();
  const added = await te.post("/__emulator/faults", [
    { match: "GET /api/2.1/clusters/list", status: 429, retry_after: 2 },
    { match: "GET /api/2.1/clusters/get", drop: true, times: 3 },
  ]);
  assertEquals(added.status, 200);
  assertEquals(added.body.faults.map((f: { match: string }) => f.match), [
    "GET /api/2.1/clusters/list",
    "GET /api/2.1/clusters/get",
  ]);
  await te.post("/__emulator/faults", { faults: [{ match: "GET /api/2.1/clusters/list", status: 503 }] });
  assertEquals((await te.get("/__emulator/faults")).body.faults.length, 3);
  const list = await te.get("/api/2.1/clusters/list");
  assertEquals([list.status, list.headers.get("retry-after")], [429, "2"]);
  assertEquals((await te.call("DELETE", "/__emulator/faults")).status, 200);
  assertEquals((await te.get("/__emulator/faults")).body, { faults: [] });
});

Deno.test("after: the route does its work first, then only the answer is dropped or replaced", async () => {
  await using te = testEmulator();
  const id = await te.clusterId("team-shared");
  await te.post("/api/2.1/clusters/delete", { cluster_id: id });
  te.emu.control.fault({ match: "POST /api/2.1/clusters/start", drop: true, after: true });
  const res = await te.emu.handle(
    new Request(`${EMULATOR_ORIGIN}/api/2.1/clusters/start`, {
      method: "POST",
      headers: { authorization: `Bearer ${te.emu.token}`, "content-type": "application/json" },
      body: JSON.stringify({ cluster_id: id }),
    }),
  );
  await rejects(() => res.text(), /connection dropped/);
  assertEquals(te.emu.control.requests().at(-1)!.fault, "drop-after");
  // The start happened although its answer was lost.
  const state = (await te.get(`${GET}?cluster_id=${id}`)).body as { state: string };
  assert(state.state !== "TERMINATED", `started: ${state.state}`);
  te.emu.control.fault({
    match: "GET /api/2.1/clusters/list",
    status: 502,
    body: "<html>bad gateway</html>",
    after: true,
  });
  const r = await te.get("/api/2.1/clusters/list");
  assertEquals(r.status, 502);
  assertEquals(te.emu.control.requests().at(-1)!.fault, "status-after");
  throws(() => te.emu.control.fault({ match: "GET /x", latency_ms: 5, after: true }), ControlError);
});

Deno.test("retry_after: false sends a 429 without Retry-After", async () => {
  await using te = testEmulator();
  te.emu.control.fault({ match: "GET /api/2.1/clusters/list", status: 429, retry_after: false });
  const r = await te.get("/api/2.1/clusters/list");
  assertEquals([r.status, r.headers.get("retry-after")], [429, null]);
});
