// config init / profiles: one profile written without touching the rest of the file; secrets only from
// stdin or env and never in the answer; profiles listed with host and auth type.

import { parseIni } from "../../src/api/ini.ts";
import { setProfile } from "../../src/config/ini_edit.ts";
import { initProfile, listProfiles, profilesText } from "../../src/config/profiles.ts";
import { isDbxrError } from "../../src/errors.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../helpers/assert.ts";
import { fakeCtx } from "../helpers/fake_ctx.ts";

const FILE = `# workspaces of mine
[DEFAULT]
host = https://a.cloud.databricks.com
token = dapiA

; prod: careful
[prod]
# the shared one
host = https://p.cloud.databricks.com
client_id = x
client_secret = y

[__settings__]
default_profile = prod
`;

Deno.test("setProfile appends a new profile and keeps every other line as it was", () => {
  const r = setProfile(FILE, "dev", [["host", "https://d.cloud.databricks.com"], ["token", "dapiD"]]);
  assertEquals(r.existed, false);
  assertEquals(r.text, FILE + "\n[dev]\nhost = https://d.cloud.databricks.com\ntoken = dapiD\n");
});

Deno.test("setProfile replaces the keys of an existing profile in place, keeping its comments", () => {
  const r = setProfile(FILE, "prod", [["host", "https://q.cloud.databricks.com"], ["token", "dapiQ"]]);
  assertEquals(r.existed, true);
  assertEquals(
    r.text,
    FILE.replace(
      "[prod]\n# the shared one\nhost = https://p.cloud.databricks.com\nclient_id = x\nclient_secret = y\n",
      "[prod]\nhost = https://q.cloud.databricks.com\ntoken = dapiQ\n# the shared one\n",
    ),
  );
  assertEquals(parseIni(r.text).sections.get("DEFAULT")!.values, {
    host: "https://a.cloud.databricks.com",
    token: "dapiA",
  });
});

Deno.test("setProfile: empty or missing file, CRLF, bare DEFAULT keys, a section split in two, quoting", () => {
  assertEquals(setProfile(undefined, "dev", [["host", "h"]]).text, "[dev]\nhost = h\n");
  assertEquals(setProfile("", "dev", [["host", "h"]]).text, "[dev]\nhost = h\n");
  assertEquals(
    setProfile("[a]\r\nhost = x\r\n", "b", [["host", "h"]]).text,
    "[a]\r\nhost = x\r\n\r\n[b]\r\nhost = h\r\n",
  );
  assertEquals(setProfile("host = old\n[a]\nhost = x\n", "DEFAULT", [["host", "new"]]), {
    text: "host = new\n[a]\nhost = x\n",
    existed: true,
  });
  const split = "[a]\nhost = 1\n[b]\nhost = 2\n[a]\ntoken = t\n";
  assertEquals(setProfile(split, "a", [["host", "h"]]).text, "[a]\nhost = h\n[b]\nhost = 2\n[a]\n");
  // An empty section (as `databricks auth login` leaves [DEFAULT]) is filled, not duplicated.
  assertEquals(setProfile("[DEFAULT]\n\n[a]\nhost = 1\n", "DEFAULT", [["host", "h"]]), {
    text: "[DEFAULT]\nhost = h\n\n[a]\nhost = 1\n",
    existed: false,
  });
  const quoted = setProfile(undefined, "q", [["token", "ab #cd"]]).text;
  assertEquals(parseIni(quoted).sections.get("q")!.values.token, "ab #cd");
});

function ctxWith(files: Record<string, string> = {}, env: Record<string, string> = {}, stdin?: string) {
  return fakeCtx({ env: { HOME: "/home/u", ...env }, files, stdin });
}

Deno.test("initProfile: PAT from stdin, written with mode 0600, the answer has no secret", async () => {
  const f = ctxWith({ "/home/u/.databrickscfg": FILE }, {}, "dapiSECRET\n");
  const r = await initProfile(f.ctx, {
    profile: "dev",
    host: "dbc-1.cloud.databricks.com/",
    token: "-",
    clusterId: "0123-456789-abcdefgh",
    force: false,
    os: "linux",
  });
  assertEquals(r.host, "https://dbc-1.cloud.databricks.com");
  assertEquals([r.auth_type, r.replaced, r.secret_from, r.cluster_id], [
    "pat",
    false,
    "stdin",
    "0123-456789-abcdefgh",
  ]);
  assert(!JSON.stringify(r).includes("dapiSECRET"));
  assertEquals(f.writes, [{ path: "/home/u/.databrickscfg", mode: 0o600 }]);
  const dev = parseIni(f.files["/home/u/.databrickscfg"]).sections.get("dev")!.values;
  assertEquals(dev, {
    host: "https://dbc-1.cloud.databricks.com",
    auth_type: "pat",
    token: "dapiSECRET",
    cluster_id: "0123-456789-abcdefgh",
  });
  assert(f.files["/home/u/.databrickscfg"].startsWith(FILE));
});

Deno.test("initProfile: OAuth M2M from env, DATABRICKS_CONFIG_FILE honoured, DEFAULT by default", async () => {
  const f = ctxWith({}, {
    DATABRICKS_CONFIG_FILE: "~/cfg/databricks.ini",
    DATABRICKS_CLIENT_ID: "sp-1",
    DATABRICKS_CLIENT_SECRET: "shh",
  });
  const r = await initProfile(f.ctx, { host: "https://m.cloud.databricks.com", force: false, os: "linux" });
  assertEquals([r.profile, r.auth_type, r.secret_from, r.config_file], [
    "DEFAULT",
    "oauth-m2m",
    "DATABRICKS_CLIENT_SECRET",
    "/home/u/cfg/databricks.ini",
  ]);
  assertEquals(parseIni(f.files["/home/u/cfg/databricks.ini"]).sections.get("DEFAULT")!.values, {
    host: "https://m.cloud.databricks.com",
    auth_type: "oauth-m2m",
    client_id: "sp-1",
    client_secret: "shh",
  });
});

async function refused(p: Promise<unknown>, code: string, text: string) {
  const e = await assertRejects(() => p);
  assert(isDbxrError(e, code as "InvalidArgument"), String(e));
  assertStringIncludes((e as Error).message, text);
}

Deno.test("initProfile refuses: an existing profile without --force, a secret on argv, no credentials, no host", async () => {
  const f = ctxWith({ "/home/u/.databrickscfg": FILE }, {}, "t");
  const base = { host: "https://p.cloud.databricks.com", force: false, os: "linux" };
  await refused(
    initProfile(f.ctx, { ...base, profile: "prod", token: "-" }),
    "InvalidArgument",
    "already exists",
  );
  await refused(
    initProfile(f.ctx, { ...base, profile: "new", token: "dapiX" }),
    "InvalidArgument",
    "not the secret",
  );
  await refused(initProfile(f.ctx, { ...base, profile: "new" }), "InvalidArgument", "no credentials");
  await refused(
    initProfile(f.ctx, { ...base, profile: "new", token: "-", clientId: "c" }),
    "InvalidArgument",
    "not both",
  );
  await refused(
    initProfile(f.ctx, { profile: "new", token: "-", force: false, os: "linux" }),
    "InvalidArgument",
    "--host",
  );
  await refused(
    initProfile(f.ctx, { ...base, profile: "__settings__", token: "-" }),
    "InvalidArgument",
    "reserved",
  );
  await refused(
    initProfile(ctxWith({ "/home/u/.databrickscfg": "[broken\n" }).ctx, {
      ...base,
      profile: "n",
      token: "-",
    }),
    "AuthError",
    "cannot parse",
  );
  assertEquals(f.writes, []);
  assertEquals(f.files["/home/u/.databrickscfg"], FILE);

  const forced = await initProfile(f.ctx, { ...base, profile: "prod", token: "-", force: true });
  assertEquals(forced.replaced, true);
});

Deno.test("listProfiles: host, auth type, cluster and the default; never a secret", async () => {
  const text = FILE +
    "[broken]\ncluster_id = c-1\n[u2m]\nhost = https://u.cloud.databricks.com\nauth_type = databricks-cli\n";
  const r = await listProfiles(ctxWith({ "/home/u/.databrickscfg": text }).ctx, "linux");
  assertEquals(r.default_profile, "prod");
  assertEquals(
    r.profiles.map((p) => [p.name, p.host, p.auth_type, p.cluster_id, p.default]),
    [
      ["DEFAULT", "https://a.cloud.databricks.com", "pat", null, false],
      ["prod", "https://p.cloud.databricks.com", "oauth-m2m", null, true],
      ["broken", null, null, "c-1", false],
      ["u2m", "https://u.cloud.databricks.com", "databricks-cli", null, false],
    ],
  );
  assertStringIncludes(r.profiles[2].problem!, "no Databricks host");
  const all = JSON.stringify(r) + profilesText(r);
  for (const secret of ["dapiA", "client_secret", "= y"]) assert(!all.includes(secret), secret);
  assertStringIncludes(profilesText(r), "*  prod");

  const none = await listProfiles(ctxWith().ctx, "linux");
  assertEquals([none.exists, none.profiles], [false, []]);
});
