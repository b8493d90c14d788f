// The server entry over real HTTP on 127.0.0.1: the same handler behind Deno.serve, dropped connections
// as real network errors, and the entry point's first stdout line.

import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
  rejects,
} from "node:assert/strict";
import { serve } from "../../src/emulator/main.ts";

Deno.test("Deno.serve wrapper: API calls, a dropped connection fails the client's read, no log noise", async () => {
  const logs: string[] = [];
  const server = serve({ port: 0, options: { seed: 3 } }, (line) => logs.push(line));
  try {
    assertMatch(server.host, /^http:\/\/127\.0\.0\.1:\d+$/);
    assertEquals(server.emulator.baseUrl, server.host);
    const auth = { authorization: `Bearer ${server.emulator.token}` };
    const ok = await fetch(`${server.host}/api/2.1/clusters/list`, { headers: auth });
    assertEquals(ok.status, 200);
    assertEquals((await ok.json()).clusters.length, 4);

    const discovery = await (await fetch(`${server.host}/oidc/.well-known/oauth-authorization-server`))
      .json();
    assertEquals(discovery.token_endpoint, `${server.host}/oidc/v1/token`);

    server.emulator.control.fault({ match: "GET /api/2.1/clusters/list", drop: true });
    await rejects(async () => {
      const res = await fetch(`${server.host}/api/2.1/clusters/list`, { headers: auth });
      await res.text();
    }, TypeError);
    assertEquals(logs, [], "a dropped connection is not logged as a server error");

    const health = await fetch(`${server.host}/__emulator/health`);
    assertEquals((await health.json()).status, "ok");
  } finally {
    await server.shutdown();
  }
});

Deno.test("deno task emulator: one JSON line first on stdout, then runs until SIGTERM", {
  ignore: Deno.build.os === "windows",
}, async () => {
  const flags =
    (await Deno.readTextFile(new URL("../../scripts/emulator_permission_flags.txt", import.meta.url)))
      .split(/\s+/).filter(Boolean);
  const entry = new URL("../../src/emulator/main.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, entry, "--seed", "11", "--time-scale", "50"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const line = JSON.parse(out.split("\n")[0]);
    assertEquals(Object.keys(line), ["host", "token", "client_id", "client_secret"]);
    assertMatch(line.host, /^http:\/\/127\.0\.0\.1:\d+$/);
    assertMatch(line.token, /^dapi[0-9a-f]{32}$/);
    const me = await fetch(`${line.host}/api/2.0/preview/scim/v2/Me`, {
      headers: { authorization: `Bearer ${line.token}` },
    });
    assertEquals((await me.json()).userName, "dbxr-dev@example.com");
    assertEquals((await (await fetch(`${line.host}/__emulator/health`)).json()).time_scale, 50);
    child.kill("SIGTERM");
    let rest = out.slice(out.indexOf("\n") + 1);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += value;
    }
    assertEquals(rest, "", "nothing else on stdout");
    const status = await child.status;
    assertEquals(status.code, 0);
    const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
    assert(stderr.includes("shutting down"), stderr);
  } finally {
    reader.releaseLock();
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await child.stderr.cancel().catch(() => {});
  }
});
