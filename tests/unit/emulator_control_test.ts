import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { envFileText, parseServerArgs } from "../../src/emulator/main.ts";
import { testEmulator } from "../helpers/emulator.ts";

const FORM = { "content-type": "application/x-www-form-urlencoded" };

Deno.test("the request log has method, path, query, status and body", async () => {
  await using te = testEmulator();
  await te.get("/api/2.1/clusters/list?filter_by.cluster_states=RUNNING&page_size=2");
  await te.post("/api/2.1/clusters/start", { cluster_id: "0101-010101-nothere1" });
  const log = te.emu.control.requests();
  assertEquals(log.map(({ method, path, query, status, body }) => ({ method, path, query, status, body })), [
    {
      method: "GET",
      path: "/api/2.1/clusters/list",
      query: "filter_by.cluster_states=RUNNING&page_size=2",
      status: 200,
      body: undefined,
    },
    {
      method: "POST",
      path: "/api/2.1/clusters/start",
      query: "",
      status: 400,
      body: { cluster_id: "0101-010101-nothere1" },
    },
  ]);
  assertEquals(log.map((e) => e.seq), [1, 2]);
  assertEquals(log[0].time, te.now());
  assertEquals("body" in log[0], false);
});

Deno.test("the log shows every known secret, and any secret-named field, as [TOKEN]", async () => {
  await using te = testEmulator();
  const { emu } = te;
  await te.post("/api/2.1/clusters/create", {
    cluster_name: `leak ${emu.token}`,
    spark_env_vars: { DATABRICKS_TOKEN: emu.token, OTHER: "x" },
    token: "anything-secret",
  });
  await te.call("POST", "/oidc/v1/token", {
    token: null,
    headers: FORM,
    body: `grant_type=client_credentials&client_id=${emu.clientId}&client_secret=dose-wrong-guess`,
  });
  await te.get(`/api/2.1/clusters/list?leak=${emu.token}`);
  const [create, oauth, list] = te.emu.control.requests();
  assertEquals(create.body, {
    cluster_name: "leak [TOKEN]",
    spark_env_vars: { DATABRICKS_TOKEN: "[TOKEN]", OTHER: "x" },
    token: "[TOKEN]",
  });
  assertEquals(
    oauth.body,
    `grant_type=client_credentials&client_id=${emu.clientId}&client_secret=[TOKEN]`,
    "even a wrong secret is hidden",
  );
  assertEquals(list.query, "leak=[TOKEN]");
  assert(!JSON.stringify(te.emu.control.requests()).includes(emu.token));
});

Deno.test("issued OAuth tokens are redacted too", async () => {
  await using te = testEmulator();
  const { emu } = te;
  const issued = await te.call("POST", "/oidc/v1/token", {
    token: null,
    headers: { ...FORM, authorization: `Basic ${btoa(`${emu.clientId}:${emu.clientSecret}`)}` },
    body: "grant_type=client_credentials",
  });
  const token = issued.body.access_token as string;
  await te.post("/api/2.1/clusters/start", { cluster_id: token });
  assertEquals(te.emu.control.requests().at(-1)!.body, { cluster_id: "[TOKEN]" });
});

Deno.test("binary bodies are summarised, control calls are not logged", async () => {
  await using te = testEmulator();
  await te.call("POST", "/api/2.0/fs/files/Volumes/a/b", { body: "\u0000\u0001\u0002" });
  await te.get("/__emulator/health");
  const log = te.emu.control.requests();
  assertEquals(log.length, 1);
  assertEquals(log[0].body, "[binary 3 bytes]");
});

Deno.test("counts per METHOD path, over HTTP too; clear empties log and counts", async () => {
  await using te = testEmulator();
  await te.get("/api/2.1/clusters/list");
  await te.get("/api/2.1/clusters/list?page_size=1");
  await te.get("/api/2.0/preview/scim/v2/Me");
  const expected = { "GET /api/2.1/clusters/list": 2, "GET /api/2.0/preview/scim/v2/Me": 1 };
  assertEquals(te.emu.control.requestCounts(), expected);
  assertEquals((await te.get("/__emulator/requests/counts")).body, { counts: expected });
  assertEquals((await te.get("/__emulator/requests")).body.requests.length, 3);
  assertEquals((await te.call("DELETE", "/__emulator/requests")).status, 200);
  assertEquals(te.emu.control.requests(), []);
  assertEquals(te.emu.control.requestCounts(), {});
  await te.get("/api/2.1/clusters/list");
  assertEquals(te.emu.control.requests()[0].seq, 4, "seq keeps counting after a clear");
});

Deno.test("reset goes back to the seed: clusters, faults, log, latency; modules hear it", async () => {
  await using te = testEmulator({ latencyMs: 0 });
  const before = (await te.get("/api/2.1/clusters/list")).body;
  const created = (await te.post("/api/2.1/clusters/create", {
    spark_version: "16.4.x-scala2.12",
    node_type_id: "m5d.large",
  })).body.cluster_id;
  await te.post("/api/2.1/clusters/delete", { cluster_id: await te.clusterId("team-shared") });
  te.emu.control.fault({ match: "GET /api/2.1/clusters/get", status: 503, times: 10 });
  te.emu.control.setLatency(5);
  let heard = 0;
  te.emu.state.events.on("reset", () => heard++);

  assertEquals((await te.post("/__emulator/reset", {}, { token: null })).status, 200);

  assertEquals(heard, 1);
  assertEquals(te.emu.control.faults(), []);
  assertEquals(te.emu.control.health().latency_ms, 0);
  assertEquals(te.emu.control.requests(), []);
  const after = (await te.get("/api/2.1/clusters/list")).body;
  assertEquals(after, before);
  assertEquals((await te.get(`/api/2.1/clusters/get?cluster_id=${created}`)).status, 400);
});

Deno.test("control over HTTP: health, latency, unknown endpoints, bad JSON", async () => {
  await using te = testEmulator({ timeScale: 4, maxContexts: 9 });
  const health = (await te.get("/__emulator/health", { token: null })).body;
  assertEquals(health, {
    status: "ok",
    now: te.now(),
    seed: 7,
    time_scale: 4,
    latency_ms: 0,
    max_contexts: 9,
    clusters: 4,
    faults: 0,
  });
  assertEquals((await te.post("/__emulator/latency", { ms: 12 })).body, { ms: 12 });
  assertEquals((await te.post("/__emulator/latency", { ms: -1 })).status, 400);
  assertEquals((await te.post("/__emulator/latency", {})).status, 400);
  te.emu.control.setLatency(0);
  assertEquals((await te.get("/__emulator/nothing")).status, 404);
  assertEquals((await te.post("/__emulator/faults", "{oops")).status, 400);
});

Deno.test("createEmulator validates its options", () => {
  for (
    const bad of [{ timeScale: 0 }, { latencyMs: -1 }, { maxContexts: 1.5 }, { seed: 1.5 }, {
      tokenTtlSeconds: 0,
    }]
  ) {
    let threw = false;
    try {
      testEmulator(bad);
    } catch (e) {
      threw = e instanceof RangeError;
    }
    assert(threw, JSON.stringify(bad));
  }
});

Deno.test("server flags: parsed, validated, --help", () => {
  assertEquals(parseServerArgs([]), {
    help: false,
    args: {
      port: 0,
      options: {
        latencyMs: undefined,
        timeScale: undefined,
        maxContexts: undefined,
        seed: undefined,
      },
    },
  });
  const r = parseServerArgs([
    "--port",
    "8765",
    "--latency-ms",
    "100",
    "--time-scale",
    "2.5",
    "--max-contexts",
    "3",
    "--seed",
    "9",
  ]);
  assertEquals(r, {
    help: false,
    args: { port: 8765, options: { latencyMs: 100, timeScale: 2.5, maxContexts: 3, seed: 9 } },
  });
  assertEquals(parseServerArgs(["--help"]), { help: true });
  assertEquals(parseServerArgs(["-h"]), { help: true });
  for (
    const bad of [
      ["--port", "70000"],
      ["--port", "x"],
      ["--time-scale", "0"],
      ["--latency-ms", "-5"],
      ["--max-contexts", "1.5"],
      ["--seed", ""],
      ["--env-file", " "],
      ["--unknown"],
      ["positional"],
    ]
  ) {
    let threw = false;
    try {
      parseServerArgs(bad);
    } catch {
      threw = true;
    }
    assert(threw, bad.join(" "));
  }
});

Deno.test("server flags: --env-file is kept, and its text points sh at the emulator alone", () => {
  const r = parseServerArgs(["--env-file", "emulator.env"]);
  assertEquals(r.help === false && r.args.envFile, "emulator.env");
  const text = envFileText("http://127.0.0.1:4321", "dapi'x");
  // Sourced in a shell that had a profile and M2M credentials: only the emulator's host and token remain.
  const out = new Deno.Command("sh", {
    args: ["-c", `${text}\nenv | grep '^DATABRICKS_' | sort`],
    env: { DATABRICKS_CONFIG_PROFILE: "dev", DATABRICKS_CLIENT_ID: "id", DATABRICKS_CLIENT_SECRET: "s" },
    stdout: "piped",
  }).outputSync();
  assertEquals(
    new TextDecoder().decode(out.stdout),
    "DATABRICKS_HOST=http://127.0.0.1:4321\nDATABRICKS_TOKEN=dapi'x\n",
  );
});
