import { chooseAuthType, createCredentials, parseExpiry, REFRESH_MARGIN_MS } from "../../src/api/auth.ts";
import { configFilePath, type ResolvedConfig } from "../../src/api/config.ts";
import { connect } from "../../src/api/connect.ts";
import { ApiClient, createSend } from "../../src/api/http.ts";
import { DbxrError } from "../../src/errors.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../helpers/assert.ts";
import { fakeCtx, type FakeCtxOptions, jsonResponse } from "../helpers/fake_ctx.ts";

const HOST = "https://dbc-1.cloud.databricks.com";

function authError(fn: () => unknown): DbxrError {
  const e = assertThrows(fn);
  assert(e instanceof DbxrError && e.code === "AuthError", String(e));
  return e;
}

// --- choosing the method ----------------------------------------------------------------------------------------

Deno.test("auth: which method", () => {
  const table: Array<[ResolvedConfig, string]> = [
    [{ host: HOST, token: "t" }, "pat"],
    [{ host: HOST, client_id: "c", client_secret: "s" }, "oauth-m2m"],
    [{ host: HOST, auth_type: "databricks-cli" }, "databricks-cli"],
    [{ host: HOST, token: "t", auth_type: "databricks-cli" }, "databricks-cli"],
    [{ host: HOST, token: "t", client_id: "c", client_secret: "s", auth_type: "oauth-m2m" }, "oauth-m2m"],
    [{ host: HOST, token: "t", auth_type: "PAT" }, "pat"],
    [{ host: HOST, token: "t", client_id: "c" }, "pat"],
  ];
  for (const [config, want] of table) assertEquals(chooseAuthType(config), want, JSON.stringify(config));
});

Deno.test("auth: no host is an AuthError saying what was tried and how to fix it", () => {
  const e = authError(() =>
    chooseAuthType({ token: "t" }, [
      "environment: DATABRICKS_TOKEN",
      "config file /h/.databrickscfg: not found",
    ])
  );
  assertStringIncludes(e.message, "no Databricks host configured");
  assertStringIncludes(e.message, "config file /h/.databrickscfg: not found");
  assertStringIncludes(e.message, "DATABRICKS_HOST");
  assertEquals(e.hint, "dbxr auth describe");
});

Deno.test("auth: a host and no credentials lists what was tried", () => {
  const e = authError(() => chooseAuthType({ host: HOST, profile: "dev" }, ["environment: DATABRICKS_HOST"]));
  assertStringIncludes(e.message, `no credentials for ${HOST}`);
  assertStringIncludes(e.message, "tried environment: DATABRICKS_HOST");
  assertStringIncludes(e.message, "databricks auth login --host");
  assertEquals(e.hint, "dbxr auth describe --profile dev");
  assertStringIncludes(
    authError(() => chooseAuthType({ host: HOST, client_id: "c" })).message,
    "client_secret is not",
  );
});

Deno.test("auth: unsupported methods are named, with the supported ones", () => {
  for (const type of ["azure-cli", "azure-client-secret", "metadata-service", "basic", "github-oidc"]) {
    const e = authError(() => chooseAuthType({ host: HOST, auth_type: type }));
    assertStringIncludes(e.message, `auth_type "${type}" is not supported`);
    assertStringIncludes(e.message, "pat, oauth-m2m, databricks-cli");
  }
  assertStringIncludes(
    authError(() => chooseAuthType({ host: HOST, auth_type: "external-browser" })).message,
    "auth_type = databricks-cli",
  );
  const fields = authError(() =>
    chooseAuthType({ host: HOST, azure_client_id: "a", azure_client_secret: "b", username: "u" })
  );
  assertStringIncludes(fields.message, "azure_client_id, azure_client_secret (azure-client-secret)");
  assertStringIncludes(fields.message, "username (basic)");
});

Deno.test("auth: a pinned method without its fields", () => {
  assertStringIncludes(
    authError(() => chooseAuthType({ host: HOST, auth_type: "pat" })).message,
    "token is not set",
  );
  assertStringIncludes(
    authError(() => chooseAuthType({ host: HOST, auth_type: "oauth-m2m", client_id: "c" })).message,
    "client_secret is not set",
  );
});

// --- PAT --------------------------------------------------------------------------------------------------------

Deno.test("auth: PAT is a bearer header, no network", async () => {
  const f = fakeCtx();
  const c = createCredentials(f.ctx, { host: HOST, token: "dapi-1" }, createSend(f.ctx, { userAgent: "t" }));
  assertEquals(c.authType, "pat");
  assertEquals(await c.header(), "Bearer dapi-1");
  c.invalidate();
  assertEquals(await c.header(), "Bearer dapi-1");
  assertEquals(f.requests.length, 0);
});

// --- OAuth M2M --------------------------------------------------------------------------------------------------

function m2m(opts: FakeCtxOptions & { expiresIn?: unknown; status?: number } = {}) {
  let issued = 0;
  const f = fakeCtx({
    ...opts,
    fetch: () => {
      if (opts.status) {
        return jsonResponse({ error: "invalid_client", error_description: "bad secret" }, opts.status);
      }
      issued++;
      return jsonResponse({
        access_token: `m2m-access-token-${issued}`,
        token_type: "Bearer",
        expires_in: opts.expiresIn ?? 3600,
        scope: "all-apis",
      });
    },
  });
  const config: ResolvedConfig = { host: HOST, client_id: "my-client", client_secret: "my-secret-value" };
  const c = createCredentials(f.ctx, config, createSend(f.ctx, { userAgent: "dbxr/t auth/oauth-m2m" }));
  return { ...f, c };
}

Deno.test("auth: M2M posts client credentials to /oidc/v1/token", async () => {
  const t = m2m();
  assertEquals(t.c.authType, "oauth-m2m");
  assertEquals(await t.c.header(), "Bearer m2m-access-token-1");
  const [r] = t.requests;
  assertEquals(r.method, "POST");
  assertEquals(r.url, `${HOST}/oidc/v1/token`);
  assertEquals(r.headers.authorization, `Basic ${btoa("my-client:my-secret-value")}`);
  assertEquals(r.headers["content-type"], "application/x-www-form-urlencoded");
  assertEquals(r.body, "grant_type=client_credentials&scope=all-apis");
  assertEquals(r.headers["user-agent"], "dbxr/t auth/oauth-m2m");
});

Deno.test("auth: M2M caches the token and refreshes it 40 s before expiry", async () => {
  const t = m2m({ expiresIn: "3600" }); // a string, as some servers send it
  await t.c.header();
  t.advance(3600_000 - REFRESH_MARGIN_MS - 1);
  assertEquals(await t.c.header(), "Bearer m2m-access-token-1");
  assertEquals(t.requests.length, 1);
  t.advance(1);
  assertEquals(await t.c.header(), "Bearer m2m-access-token-2");
  assertEquals(t.requests.length, 2);
});

Deno.test("auth: M2M fetches a new token after invalidate (a 401)", async () => {
  const t = m2m();
  await t.c.header();
  t.c.invalidate();
  assertEquals(await t.c.header(), "Bearer m2m-access-token-2");
});

Deno.test("auth: concurrent callers share one token request", async () => {
  const t = m2m();
  const headers = await Promise.all([t.c.header(), t.c.header(), t.c.header()]);
  assertEquals(headers, Array(3).fill("Bearer m2m-access-token-1"));
  assertEquals(t.requests.length, 1);
});

Deno.test("auth: a refused client is an AuthError without the secret", async () => {
  const t = m2m({ status: 401 });
  const e = await assertRejects(() => t.c.header()) as DbxrError;
  assertEquals(e.code, "AuthError");
  assertStringIncludes(e.message, "invalid_client: bad secret");
  assertStringIncludes(e.message, "my-client");
  assert(!JSON.stringify(e.toJSON()).includes("my-secret-value"));
});

Deno.test("auth: M2M with 401 refresh through the ApiClient, and no secret in --debug", async () => {
  let issued = 0;
  let apiCalls = 0;
  const f = fakeCtx({
    debug: true,
    fetch: (req) => {
      if (new URL(req.url).pathname === "/oidc/v1/token") {
        issued++;
        return jsonResponse({ access_token: `m2m-access-token-${issued}`, expires_in: 3600 });
      }
      apiCalls++;
      return apiCalls === 1
        ? jsonResponse({ error_code: "UNAUTHENTICATED", message: "expired" }, 401)
        : jsonResponse({ userName: "sp" });
    },
  });
  const config: ResolvedConfig = { host: HOST, client_id: "my-client", client_secret: "my-secret-value" };
  const send = createSend(f.ctx, { userAgent: "t" });
  const client = new ApiClient(f.ctx, {
    host: HOST,
    credentials: createCredentials(f.ctx, config, send),
    send,
  });
  assertEquals(await client.get("/api/2.0/preview/scim/v2/Me"), { userName: "sp" });
  assertEquals(issued, 2);
  assertEquals(f.requests.at(-1)?.headers.authorization, "Bearer m2m-access-token-2");
  for (const secret of ["my-secret-value", "m2m-access-token", btoa("my-client:my-secret-value")]) {
    assert(!f.stderr().includes(secret), `${secret} leaked:\n${f.stderr()}`);
  }
  assertStringIncludes(f.stderr(), "> POST /oidc/v1/token");
});

// --- U2M through the databricks CLI ---------------------------------------------------------------------------

function u2m(config: ResolvedConfig, run: FakeCtxOptions["run"]) {
  const f = fakeCtx({ run });
  const c = createCredentials(
    f.ctx,
    { host: HOST, auth_type: "databricks-cli", ...config },
    createSend(f.ctx, { userAgent: "t" }),
  );
  return { ...f, c };
}

const cliToken = (token: string, expiry: string) => ({
  code: 0,
  stdout: JSON.stringify({ access_token: token, token_type: "Bearer", expiry }),
  stderr: "",
});

Deno.test("auth: U2M runs `databricks auth token --profile P` and caches until near expiry", async () => {
  let n = 0;
  const start = Date.UTC(2026, 0, 1);
  const t = u2m(
    { profile: "dev" },
    () => cliToken(`u2m-${++n}`, new Date(start + 600_000).toISOString().replace("Z", "123456Z")),
  );
  assertEquals(t.c.authType, "databricks-cli");
  assertEquals(await t.c.header(), "Bearer u2m-1");
  assertEquals(await t.c.header(), "Bearer u2m-1");
  assertEquals(t.runs, [{ cmd: "databricks", args: ["auth", "token", "--profile", "dev"] }]);
  t.advance(600_000 - REFRESH_MARGIN_MS);
  assertEquals(await t.c.header(), "Bearer u2m-2");
  assertEquals(t.runs.length, 2);
});

Deno.test("auth: U2M without a profile uses --host, and databricks_cli_path", async () => {
  const t = u2m({ databricks_cli_path: "/opt/bin/databricks" }, () => cliToken("u", "2030-01-01T00:00:00Z"));
  await t.c.header();
  assertEquals(t.runs, [{ cmd: "/opt/bin/databricks", args: ["auth", "token", "--host", HOST] }]);
});

Deno.test("auth: the databricks CLI missing is an AuthError with a login hint", async () => {
  const t = u2m({}, undefined); // the fake's run throws NotFound
  const e = await assertRejects(() => t.c.header()) as DbxrError;
  assertEquals(e.code, "AuthError");
  assertStringIncludes(e.message, "was not found");
  assertEquals(e.hint, `databricks auth login --host ${HOST}`);
});

Deno.test("auth: a databricks CLI outside --allow-run is an AuthError", async () => {
  const t = u2m({ databricks_cli_path: "/x/dbx" }, () => {
    throw new Deno.errors.NotCapable("Requires run access to /x/dbx");
  });
  const e = await assertRejects(() => t.c.header()) as DbxrError;
  assertStringIncludes(e.message, "permission scope");
});

Deno.test("auth: a failing `databricks auth token` passes its stderr on", async () => {
  const t = u2m({ profile: "dev" }, () => ({
    code: 1,
    stdout: "",
    stderr: "Error: A new access token could not be retrieved because the refresh token is invalid.\n",
  }));
  const e = await assertRejects(() => t.c.header()) as DbxrError;
  assertEquals(e.code, "AuthError");
  assertMatch(e.message, /^databricks-cli: cannot get access token: Error: A new access token/);
  assertEquals(e.hint, "databricks auth login --profile dev");
  assertEquals(e.details.exit_code, 1);
});

Deno.test("auth: unreadable CLI output is an AuthError", async () => {
  const t = u2m({}, () => ({ code: 0, stdout: "not json", stderr: "" }));
  assertStringIncludes((await assertRejects(() => t.c.header()) as DbxrError).message, "cannot parse");
});

Deno.test("auth: parseExpiry", () => {
  assertEquals(parseExpiry("2024-03-20T10:30:00.123456789Z"), Date.UTC(2024, 2, 20, 10, 30, 0, 123));
  assertEquals(parseExpiry("2024-03-20T10:30:00Z"), Date.UTC(2024, 2, 20, 10, 30, 0));
  assertEquals(parseExpiry("2024-03-20T10:30:00+01:00"), Date.UTC(2024, 2, 20, 9, 30, 0));
  assertEquals(parseExpiry("2024-03-20T10:30:00.5-02:00"), Date.UTC(2024, 2, 20, 12, 30, 0, 500));
  assertEquals(parseExpiry("2024-03-20 10:30:00"), new Date(2024, 2, 20, 10, 30, 0).getTime());
  assertEquals(parseExpiry("soon"), undefined);
});

// --- connect ------------------------------------------------------------------------------------------------------

Deno.test("connect: env config → a client that sends the PAT and a full User-Agent", async () => {
  const f = fakeCtx({
    env: { DATABRICKS_HOST: "http://127.0.0.1:8123/", DATABRICKS_TOKEN: "emu-token-123456", HOME: "/home/u" },
    fetch: () => jsonResponse({ clusters: [] }),
  });
  const conn = await connect(f.ctx, {}, "cluster list");
  assertEquals(conn.authType, "pat");
  assertEquals(conn.config.host, "http://127.0.0.1:8123");
  assertEquals(conn.sources.token, "env");
  assertEquals(conn.profile, undefined);
  await conn.client.get("/api/2.1/clusters/list");
  const [r] = f.requests;
  assertEquals(r.url, "http://127.0.0.1:8123/api/2.1/clusters/list");
  assertEquals(r.headers.authorization, "Bearer emu-token-123456");
  assertMatch(r.headers["user-agent"], /^dbxr\/\S+ deno\/\S+ os\/\S+ auth\/pat cmd\/cluster_list$/);
});

Deno.test("connect: a profile with M2M, and the profile in hints", async () => {
  const env = { HOME: "/home/u", USERPROFILE: "/home/u" };
  const f = fakeCtx({
    env,
    files: {
      [configFilePath((k) => env[k as keyof typeof env], Deno.build.os)]:
        `[sp]\nhost = ${HOST}\nclient_id = c\nclient_secret = s\n`,
    },
    fetch: (req) =>
      new URL(req.url).pathname === "/oidc/v1/token"
        ? jsonResponse({ access_token: "at", expires_in: 60 })
        : jsonResponse({ error_code: "PERMISSION_DENIED", message: "no" }, 403),
  });
  const conn = await connect(f.ctx, { profile: "sp" }, "cluster_get");
  assertEquals(conn.authType, "oauth-m2m");
  assertEquals(conn.profile, "sp");
  assertEquals(conn.resolution.profileSource, "flag");
  const e = await assertRejects(() =>
    conn.client.get("/api/2.1/clusters/get", { cluster_id: "x" })
  ) as DbxrError;
  assertEquals(e.code, "PermissionDenied");
  assertEquals(e.hint, "dbxr auth describe --profile sp");
  assertMatch(f.requests[0].headers["user-agent"], /auth\/oauth-m2m cmd\/cluster_get$/);
});

Deno.test("connect: configuration problems surface before any request", async () => {
  const f = fakeCtx({ env: { HOME: "/home/u" } });
  const e = await assertRejects(() => connect(f.ctx, {}, "cluster_list")) as DbxrError;
  assertEquals(e.code, "AuthError");
  assertEquals(f.requests.length, 0);
});
