// Auth, the REST client's resilience and the permission scope, end to end.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { served } from "../helpers/served.ts";

Deno.test("PAT from env: whoami and describe (no secret in the output)", async () => {
  await using s = await served();
  const who = await s.dbxr(["auth", "whoami"]);
  assertEquals(who.code, 0, who.stderr);
  assertEquals(who.json().auth_type, "pat");
  assertMatch(who.json().user_name as string, /@/);
  const d = await s.dbxr(["auth", "describe"]);
  assertEquals(d.code, 0, d.stderr);
  const desc = d.json();
  assertEquals([desc.host, desc.auth_type, desc.profile], [s.host, "pat", null]);
  assertEquals((desc.sources as Record<string, string>).token, "env");
  assert(!d.stdout.includes(s.emulator.token), "describe printed the token");
});

Deno.test("OAuth M2M from a profile of DATABRICKS_CONFIG_FILE", async () => {
  await using s = await served();
  const cfg = `${s.home}/custom.cfg`;
  await Deno.writeTextFile(
    cfg,
    `[DEFAULT]\nhost = https://ignored.cloud.databricks.com\n\n[sp.eu]\nhost = ${s.host}/\n` +
      `client_id = ${s.emulator.clientId}\nclient_secret = ${s.emulator.clientSecret}\n`,
  );
  const env = { DATABRICKS_HOST: "", DATABRICKS_TOKEN: "", DATABRICKS_CONFIG_FILE: cfg };
  const who = await s.dbxr(["auth", "whoami", "--profile", "sp.eu"], { env });
  assertEquals(who.code, 0, who.stdout + who.stderr);
  assertEquals(who.json().auth_type, "oauth-m2m");
  const d = (await s.dbxr(["auth", "describe", "-p", "sp.eu"], { env })).json();
  assertEquals([d.profile, d.host], ["sp.eu", s.host]);
  assertEquals((d.sources as Record<string, string>).client_secret, "profile:sp.eu");
  assert(!JSON.stringify(d).includes(s.emulator.clientSecret));
  const counts = await s.counts();
  assertEquals(counts["POST /oidc/v1/token"], 1);
});

Deno.test("a named profile that does not exist lists the ones that do", async () => {
  await using s = await served();
  await Deno.writeTextFile(`${s.home}/.databrickscfg`, `[dev]\nhost = ${s.host}\ntoken = x\n`);
  const r = await s.dbxr(["cluster", "list", "--profile", "prod"], {
    env: { DATABRICKS_HOST: "", DATABRICKS_TOKEN: "" },
  });
  assert(r.code !== 0);
  assertStringIncludes(r.json().message as string, "dev");
});

Deno.test("bad token: AuthError (exit 3, never PermissionDenied) with a hint, nothing leaked", async () => {
  await using s = await served();
  const r = await s.dbxr(["cluster", "list"], { env: { DATABRICKS_TOKEN: "dapi-not-a-real-token" } });
  assert(r.code === 3, r.stdout);
  const e = r.json();
  // Databricks answers an unknown token with 403 "Invalid access token.": fix the token, not permissions.
  assertEquals(e.error, "AuthError");
  assertMatch(e.hint as string, /^dbxr auth describe/);
  assert(!r.stdout.includes("dapi-not-a-real-token") && !r.stderr.includes("dapi-not-a-real-token"));
});

Deno.test("a token with a line break inside: AuthError naming the variable; --debug leaks nothing either", async () => {
  await using s = await served();
  for (const cut of ["\r", "\n", "\r\n"]) {
    const token = `${s.emulator.token.slice(0, 6)}${cut}${s.emulator.token.slice(6)}`;
    const r = await s.dbxr(["auth", "whoami", "--json", "--debug"], { env: { DATABRICKS_TOKEN: token } });
    assertEquals(r.code, 3, r.stdout);
    assertEquals(r.json().error, "AuthError");
    assertStringIncludes(r.json().message as string, "DATABRICKS_TOKEN");
    for (const part of [s.emulator.token.slice(0, 6), s.emulator.token.slice(6)]) {
      assert(
        !r.stdout.includes(part) && !r.stderr.includes(part),
        `token part leaked: ${r.stdout}${r.stderr}`,
      );
    }
  }
});

Deno.test("no credentials at all: AuthError that says what was tried", async () => {
  await using s = await served();
  const r = await s.dbxr(["cluster", "list"], { env: { DATABRICKS_TOKEN: "" } });
  assertEquals(r.code, 3);
  assertStringIncludes(r.json().message as string, "DATABRICKS_HOST");
});

Deno.test("429 with Retry-After and a 503 are retried and survived", async () => {
  await using s = await served();
  await s.control("POST", "faults", [
    { match: "GET /api/2.1/clusters/list", status: 429, retry_after: 1, times: 1 },
    { match: "GET /api/2.1/clusters/list", status: 503, times: 1 },
  ]);
  const t0 = Date.now();
  const r = await s.dbxr(["cluster", "list"]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  assert(Date.now() - t0 >= 1_000, "Retry-After: 1 was not honoured");
  const counts = await s.counts();
  assertEquals(counts["GET /api/2.1/clusters/list"], 3);
});

Deno.test("a dropped connection on a GET is retried", async () => {
  await using s = await served();
  await s.control("POST", "faults", { match: "GET /api/2.1/clusters/list", drop: true, times: 1 });
  const r = await s.dbxr(["cluster", "list"]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
});

Deno.test("a dropped connection on a start POST is not retried: NetworkError (exit 7)", async () => {
  await using s = await served();
  const id = (await s.dbxr(["find-cluster", "--name", "dbxr-dev"])).json().cluster_id as string;
  await s.control("POST", "faults", { match: "POST /api/2.1/clusters/start", drop: true, times: 1 });
  const r = await s.dbxr(["cluster", "start", id]);
  assertEquals(r.code, 7, r.stdout);
  assertEquals(r.json().error, "NetworkError");
  const counts = await s.counts();
  assertEquals(counts["POST /api/2.1/clusters/start"], 1);
});

Deno.test("a host where nothing listens: NetworkError (exit 7) after a few quick attempts, not a minute", async () => {
  await using s = await served();
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const r = await s.dbxr(["cluster", "list", "--debug"], {
    env: { DATABRICKS_HOST: `http://127.0.0.1:${port}` },
  });
  assertEquals(r.code, 7, r.stdout);
  assertEquals(r.json().error, "NetworkError");
  const attempts = (r.stderr.match(/> GET \/api\/2\.1\/clusters\/list/g) ?? []).length;
  assert(attempts >= 2 && attempts <= 4, `${attempts} attempts:\n${r.stderr}`);
});

Deno.test("--debug traces requests on stderr without the token", async () => {
  await using s = await served();
  const r = await s.dbxr(["cluster", "list", "--debug"]);
  assertEquals(r.code, 0);
  assertStringIncludes(r.stderr, "GET /api/2.1/clusters/list");
  assertMatch(r.stderr, /200/);
  assert(!r.stderr.includes(s.emulator.token), "the token leaked into --debug output");
  const m2m = await s.dbxr(["auth", "whoami", "--debug"], {
    env: {
      DATABRICKS_TOKEN: "",
      DATABRICKS_CLIENT_ID: s.emulator.clientId,
      DATABRICKS_CLIENT_SECRET: s.emulator.clientSecret,
    },
  });
  assertEquals(m2m.code, 0, m2m.stdout + m2m.stderr);
  assertStringIncludes(m2m.stderr, "/oidc/v1/token");
  assert(!m2m.stderr.includes(s.emulator.clientSecret), "the client secret leaked");
  const issued = m2m.stderr.match(/"access_token"\s*:\s*"([^"]+)"/);
  assert(!issued || issued[1].includes("REDACTED"), "the access token leaked");
});

Deno.test("a host outside the permission scope is refused with HostNotAllowed (exit 7)", async () => {
  await using s = await served();
  const r = await s.dbxr(["cluster", "list"], { env: { DATABRICKS_HOST: "https://example.com" } });
  assertEquals(r.code, 7, r.stdout);
  const e = r.json();
  assertEquals(e.error, "HostNotAllowed");
  assertStringIncludes(e.message as string, "example.com");
  assertStringIncludes(e.hint as string, "--allow-net=example.com");
});

Deno.test("doctor: all checks pass against the emulator; a bad token fails the credentials check", async () => {
  await using s = await served();
  const ok = await s.dbxr(["doctor"]);
  assertEquals(ok.code, 0, ok.stdout);
  assertEquals(ok.json().status, "ok");
  const bad = await s.dbxr(["doctor"], { env: { DATABRICKS_TOKEN: "wrong" } });
  assertEquals(bad.code, 3);
  const checks = bad.json().checks as Array<{ check: string; ok: boolean; hint?: string }>;
  assertEquals(checks.map((c) => [c.check, c.ok]), [["config", true], ["host", true], [
    "credentials",
    false,
  ]]);
});
