import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  notDeepStrictEqual as assertNotEquals,
  ok as assert,
} from "node:assert/strict";
import { createEmulator } from "../../src/emulator/emulator.ts";
import { EMULATOR_ORIGIN, testEmulator } from "../helpers/emulator.ts";

const ME = "/api/2.0/preview/scim/v2/Me";
const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`;
const FORM = { "content-type": "application/x-www-form-urlencoded" };

Deno.test("the PAT authenticates SCIM Me, which names the user and carries the workspace id header", async () => {
  await using te = testEmulator();
  const r = await te.get(ME);
  assertEquals(r.status, 200);
  assertEquals(r.headers.get("x-databricks-org-id"), te.emu.workspaceId);
  assertMatch(te.emu.workspaceId, /^\d{16}$/);
  assertEquals(r.body.userName, "dbxr-dev@example.com");
  assertEquals(r.body.emails, [{ value: "dbxr-dev@example.com", type: "work", primary: true }]);
  assertEquals(r.body.active, true);
  assertMatch(r.body.id, /^\d+$/);
  assertEquals(r.body.schemas, [
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:extension:workspace:2.0:User",
  ]);
  assert(r.body.groups.some((g: { display: string }) => g.display === "users"));
});

Deno.test("SCIM Me honours attributes and excludedAttributes", async () => {
  await using te = testEmulator();
  assertEquals(Object.keys((await te.get(`${ME}?attributes=userName`)).body).sort(), [
    "id",
    "schemas",
    "userName",
  ]);
  const without = (await te.get(`${ME}?excludedAttributes=groups,entitlements`)).body;
  assertEquals("groups" in without || "entitlements" in without, false);
});

Deno.test("the token is a dapi PAT, client secret a dose secret, client id a UUID", () => {
  const emu = createEmulator({ seed: 3 });
  assertMatch(emu.token, /^dapi[0-9a-f]{32}$/);
  assertMatch(emu.clientSecret, /^dose[0-9a-z]{32}$/);
  assertMatch(emu.clientId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

Deno.test("secrets follow a pinned seed and are random without one", () => {
  assertEquals(createEmulator({ seed: 5 }).token, createEmulator({ seed: 5 }).token);
  assertNotEquals(createEmulator({ seed: 5 }).token, createEmulator({ seed: 6 }).token);
  assertNotEquals(createEmulator().token, createEmulator().token);
});

Deno.test("no Authorization header: 401 with Databricks' body (numeric error_code) and reason header", async () => {
  await using te = testEmulator();
  const r = await te.get("/api/2.1/clusters/list", { token: null });
  assertEquals(r.status, 401);
  const message = "Credential was not sent or was of an unsupported type for this API.";
  assertEquals(r.body, { error_code: 401, message });
  assertEquals(r.headers.get("x-databricks-reason-phrase"), message);
});

Deno.test("a non-Bearer Authorization header is 401 too", async () => {
  await using te = testEmulator();
  const r = await te.get(ME, { token: null, headers: { authorization: basic("u", "p") } });
  assertEquals(r.status, 401);
  assertEquals(r.body.error_code, 401);
});

Deno.test("an unknown token is 403 Invalid access token.", async () => {
  await using te = testEmulator();
  const r = await te.get(ME, { token: "dapi0000" });
  assertEquals(r.status, 403);
  assertEquals(r.body, { error_code: 403, message: "Invalid access token." });
});

Deno.test("auth runs before routing: an unknown API path without a token is 401, with one 404", async () => {
  await using te = testEmulator();
  assertEquals((await te.get("/api/2.1/nothing/here", { token: null })).status, 401);
  const r = await te.get("/api/2.1/nothing/here");
  assertEquals(r.status, 404);
  assertEquals(r.body, { error_code: "ENDPOINT_NOT_FOUND", message: "No API found for 'GET /nothing/here'" });
});

Deno.test("serving endpoints need a token like the REST APIs", async () => {
  await using te = testEmulator();
  assertEquals((await te.post("/serving-endpoints/x/invocations", {}, { token: null })).status, 401);
});

Deno.test("OIDC discovery is public and points at the request's origin, or at the base URL once set", async () => {
  await using te = testEmulator();
  const r = await te.get("/oidc/.well-known/oauth-authorization-server", { token: null });
  assertEquals(r.status, 200);
  assertEquals(r.body.token_endpoint, `${EMULATOR_ORIGIN}/oidc/v1/token`);
  assertEquals(r.body.authorization_endpoint, `${EMULATOR_ORIGIN}/oidc/v1/authorize`);
  te.emu.setBaseUrl("http://127.0.0.1:4242/");
  const after = await te.get("/oidc/.well-known/oauth-authorization-server", { token: null });
  assertEquals(after.body.token_endpoint, "http://127.0.0.1:4242/oidc/v1/token");
  assertEquals(te.emu.baseUrl, "http://127.0.0.1:4242");
});

Deno.test("/.well-known/databricks-config is 404 (newer SDKs probe it and tolerate that)", async () => {
  await using te = testEmulator();
  assertEquals((await te.get("/.well-known/databricks-config", { token: null })).status, 404);
});

Deno.test("M2M: client credentials via Basic buy a Bearer token that works until it expires", async () => {
  await using te = testEmulator({ tokenTtlSeconds: 120 });
  const { emu } = te;
  const r = await te.call("POST", "/oidc/v1/token", {
    token: null,
    headers: { ...FORM, authorization: basic(emu.clientId, emu.clientSecret) },
    body: "grant_type=client_credentials&scope=all-apis",
  });
  assertEquals(r.status, 200);
  assertEquals(r.body.token_type, "Bearer");
  assertEquals(r.body.expires_in, 120);
  assertEquals(r.body.scope, "all-apis");
  assertMatch(r.body.access_token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
  const token = r.body.access_token as string;

  const me = await te.get(ME, { token });
  assertEquals(me.status, 200);
  assertEquals(me.body.userName, emu.clientId, "a service principal's userName is its application id");
  assertEquals(me.body.emails, undefined);

  te.advance(89_000); // 31 s left: still accepted
  assertEquals((await te.get(ME, { token })).status, 200);
  te.advance(2_000); // 29 s left: refused, as Databricks does 30 s before expiry
  const expiring = await te.get(ME, { token });
  assertEquals(expiring.status, 403);
  assertEquals(expiring.body, {
    error_code: 403,
    message: "Token is expiring within 30 seconds. (token expired)",
  });
  te.advance(60_000);
  assertEquals((await te.get(ME, { token })).body, { error_code: 403, message: "Invalid access token." });
});

Deno.test("M2M: credentials as form fields work too, and the requested scope is echoed", async () => {
  await using te = testEmulator();
  const { emu } = te;
  const form = new URLSearchParams({
    grant_type: "client_credentials",
    scope: "all-apis offline_access",
    client_id: emu.clientId,
    client_secret: emu.clientSecret,
  });
  const r = await te.call("POST", "/oidc/v1/token", { token: null, headers: FORM, body: form.toString() });
  assertEquals(r.status, 200);
  assertEquals(r.body.scope, "all-apis offline_access");
});

Deno.test("M2M: a wrong secret or client id is 401 invalid_client", async () => {
  await using te = testEmulator();
  for (const auth of [basic(te.emu.clientId, "dose-wrong"), basic("someone-else", te.emu.clientSecret)]) {
    const r = await te.call("POST", "/oidc/v1/token", {
      token: null,
      headers: { ...FORM, authorization: auth },
      body: "grant_type=client_credentials&scope=all-apis",
    });
    assertEquals(r.status, 401);
    assertEquals(r.body, { error: "invalid_client", error_description: "Client authentication failed" });
  }
  const none = await te.call("POST", "/oidc/v1/token", {
    token: null,
    headers: FORM,
    body: "grant_type=client_credentials",
  });
  assertEquals(none.status, 401);
});

Deno.test("M2M: another grant type is refused with an OAuth error", async () => {
  await using te = testEmulator();
  const r = await te.call("POST", "/oidc/v1/token", {
    token: null,
    headers: { ...FORM, authorization: basic(te.emu.clientId, te.emu.clientSecret) },
    body: "grant_type=password",
  });
  assertEquals(r.status, 400);
  assertEquals(r.body.error, "unsupported_grant_type");
});

Deno.test("a short token lifetime keeps half of it usable despite the 30 s skew", async () => {
  await using te = testEmulator({ tokenTtlSeconds: 10 });
  const r = await te.call("POST", "/oidc/v1/token", {
    token: null,
    headers: { ...FORM, authorization: basic(te.emu.clientId, te.emu.clientSecret) },
    body: "grant_type=client_credentials",
  });
  te.advance(4_999);
  assertEquals((await te.get(ME, { token: r.body.access_token })).status, 200);
  te.advance(1);
  const refused = await te.get(ME, { token: r.body.access_token });
  assertEquals(refused.body.message, "Token is expiring within 5 seconds. (token expired)");
});

Deno.test("a token with a zero expiry skew is accepted until its last second", async () => {
  await using te = testEmulator({ tokenTtlSeconds: 10, tokenExpirySkewSeconds: 0 });
  const r = await te.call("POST", "/oidc/v1/token", {
    token: null,
    headers: { ...FORM, authorization: basic(te.emu.clientId, te.emu.clientSecret) },
    body: "grant_type=client_credentials",
  });
  te.advance(9_999);
  assertEquals((await te.get(ME, { token: r.body.access_token })).status, 200);
  te.advance(1);
  assertEquals((await te.get(ME, { token: r.body.access_token })).status, 403);
});
