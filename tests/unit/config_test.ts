import {
  configFilePath,
  type ConfigFlags,
  type ConfigResolution,
  loadConfig,
  needsConfigFile,
  normalizeHost,
  resolveConfig,
} from "../../src/api/config.ts";
import { DbxrError } from "../../src/errors.ts";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../helpers/assert.ts";
import { fakeCtx } from "../helpers/fake_ctx.ts";

const FILE = "/home/u/.databrickscfg";

const CFG = `
[DEFAULT]
host = https://default.cloud.databricks.com
token = dapi-default

[prod]
host = https://prod.cloud.databricks.com/
token = dapi-prod
cluster_id = 0101-prod

[hostonly]
host = prod-host.cloud.databricks.com

[m2m]
host = https://m2m.cloud.databricks.com
client_id = cid
client_secret = csecret

[u2m]
host = https://u2m.cloud.databricks.com
auth_type = databricks-cli

[azure]
host = https://adb-1.azuredatabricks.net
azure_client_id = a
azure_client_secret = b
`;

const SETTINGS = `${CFG}
[__settings__]
default_profile = m2m
`;

const NO_DEFAULT_HOST = `
[DEFAULT]
token = dapi-orphan

[prod]
host = https://prod.cloud.databricks.com
token = dapi-prod
`;

interface Case {
  name: string;
  flags?: ConfigFlags;
  env?: Record<string, string>;
  ini?: string;
  /** Expected values (only the keys listed are compared, plus profile). */
  want?: Record<string, string | undefined>;
  sources?: Record<string, string>;
  profile?: string;
  profileSource?: string;
  /** Expected error code and a part of its message. */
  error?: [string, string];
}

const cases: Case[] = [
  // --- no profile named, host from env or flag: env alone, the file is not read
  {
    name: "DATABRICKS_HOST + DATABRICKS_TOKEN: env alone, DEFAULT ignored",
    env: { DATABRICKS_HOST: "env.cloud.databricks.com", DATABRICKS_TOKEN: "dapi-env" },
    ini: CFG,
    want: { host: "https://env.cloud.databricks.com", token: "dapi-env" },
    sources: { host: "env", token: "env" },
    profile: undefined,
  },
  {
    name: "DATABRICKS_HOST alone: the file is not read, so DEFAULT's token is not used",
    env: { DATABRICKS_HOST: "https://env.cloud.databricks.com" },
    ini: CFG,
    want: { host: "https://env.cloud.databricks.com", token: undefined },
    profile: undefined,
  },
  {
    name: "--host alone also means env alone",
    flags: { host: "http://127.0.0.1:8123/" },
    env: { DATABRICKS_TOKEN: "dapi-env" },
    ini: CFG,
    want: { host: "http://127.0.0.1:8123", token: "dapi-env" },
    sources: { host: "flag", token: "env" },
    profile: undefined,
  },
  {
    name: "--host beats DATABRICKS_HOST",
    flags: { host: "https://flag.cloud.databricks.com" },
    env: { DATABRICKS_HOST: "https://env.cloud.databricks.com", DATABRICKS_TOKEN: "t" },
    want: { host: "https://flag.cloud.databricks.com" },
    sources: { host: "flag" },
  },
  {
    name: "empty env values count as unset",
    env: { DATABRICKS_HOST: "", DATABRICKS_TOKEN: "  " },
    ini: CFG,
    want: { host: "https://default.cloud.databricks.com", token: "dapi-default" },
    profile: "DEFAULT",
    profileSource: "default",
  },
  // --- explicit profile: it owns host and credentials; env fills gaps only
  {
    name: "--profile: the profile's host and token win over env",
    flags: { profile: "prod" },
    env: { DATABRICKS_HOST: "https://env.cloud.databricks.com", DATABRICKS_TOKEN: "dapi-env" },
    ini: CFG,
    want: { host: "https://prod.cloud.databricks.com", token: "dapi-prod", cluster_id: "0101-prod" },
    sources: { host: "profile:prod", token: "profile:prod", cluster_id: "profile:prod" },
    profile: "prod",
    profileSource: "flag",
  },
  {
    name: "DATABRICKS_CONFIG_PROFILE is explicit too",
    env: { DATABRICKS_CONFIG_PROFILE: "prod", DATABRICKS_TOKEN: "dapi-env" },
    ini: CFG,
    want: { host: "https://prod.cloud.databricks.com", token: "dapi-prod" },
    profile: "prod",
    profileSource: "env",
  },
  {
    name: "--profile beats DATABRICKS_CONFIG_PROFILE",
    flags: { profile: "m2m" },
    env: { DATABRICKS_CONFIG_PROFILE: "prod" },
    ini: CFG,
    want: { host: "https://m2m.cloud.databricks.com", client_id: "cid", token: undefined },
    profile: "m2m",
    profileSource: "flag",
  },
  {
    name: "a host-only profile takes DATABRICKS_TOKEN from env (gap fill)",
    flags: { profile: "hostonly" },
    env: { DATABRICKS_TOKEN: "dapi-env", DATABRICKS_HOST: "https://ignored.cloud.databricks.com" },
    ini: CFG,
    want: { host: "https://prod-host.cloud.databricks.com", token: "dapi-env" },
    sources: { host: "profile:hostonly", token: "env" },
  },
  {
    name: "DATABRICKS_CLUSTER_ID beats the profile's cluster_id (non-auth fields are env-first)",
    flags: { profile: "prod" },
    env: { DATABRICKS_CLUSTER_ID: "0202-env" },
    ini: CFG,
    want: { cluster_id: "0202-env" },
    sources: { cluster_id: "env" },
  },
  {
    name: "--host overrides the profile's host, the profile's credentials stay",
    flags: { profile: "prod", host: "https://other.cloud.databricks.com" },
    ini: CFG,
    want: { host: "https://other.cloud.databricks.com", token: "dapi-prod" },
    sources: { host: "flag", token: "profile:prod" },
  },
  {
    name: "profile auth_type is read (U2M profile)",
    flags: { profile: "u2m" },
    ini: CFG,
    want: { host: "https://u2m.cloud.databricks.com", auth_type: "databricks-cli" },
    sources: { auth_type: "profile:u2m" },
  },
  {
    name: "DATABRICKS_AUTH_TYPE fills a profile without auth_type",
    flags: { profile: "prod" },
    env: { DATABRICKS_AUTH_TYPE: "pat" },
    ini: CFG,
    want: { auth_type: "pat" },
    sources: { auth_type: "env" },
  },
  {
    name: "explicit profile DEFAULT",
    flags: { profile: "DEFAULT" },
    ini: CFG,
    want: { host: "https://default.cloud.databricks.com" },
    profile: "DEFAULT",
    profileSource: "flag",
  },
  {
    name: "unsupported method fields are kept so they can be named",
    flags: { profile: "azure" },
    ini: CFG,
    want: { azure_client_id: "a", azure_client_secret: "b" },
  },
  // --- no profile named, no host: [__settings__].default_profile, then [DEFAULT] with a host
  {
    name: "[__settings__].default_profile wins over [DEFAULT]",
    ini: SETTINGS,
    want: { host: "https://m2m.cloud.databricks.com", client_id: "cid", token: undefined },
    profile: "m2m",
    profileSource: "settings",
  },
  {
    name: "[DEFAULT] with a host is the fallback",
    ini: CFG,
    want: { host: "https://default.cloud.databricks.com", token: "dapi-default" },
    sources: { host: "profile:DEFAULT", token: "profile:DEFAULT" },
    profile: "DEFAULT",
    profileSource: "default",
  },
  {
    name: "a default profile follows the SDK's env-first chain: DATABRICKS_TOKEN beats DEFAULT's token",
    env: { DATABRICKS_TOKEN: "dapi-env" },
    ini: CFG,
    want: { host: "https://default.cloud.databricks.com", token: "dapi-env" },
    sources: { host: "profile:DEFAULT", token: "env" },
    profile: "DEFAULT",
  },
  {
    name: "[DEFAULT] without a host is not used, and never 'the only profile in the file'",
    env: { DATABRICKS_TOKEN: "dapi-env" },
    ini: NO_DEFAULT_HOST,
    want: { host: undefined, token: "dapi-env" },
    profile: undefined,
  },
  {
    name: "no file at all: env only",
    env: { DATABRICKS_TOKEN: "dapi-env" },
    want: { host: undefined, token: "dapi-env" },
    profile: undefined,
  },
  // --- errors
  {
    name: "a named profile missing from the file names the ones that exist",
    flags: { profile: "staging" },
    ini: CFG,
    error: ["AuthError", "profiles there: DEFAULT, prod, hostonly, m2m, u2m, azure"],
  },
  {
    name: "DATABRICKS_CONFIG_PROFILE naming a missing profile",
    env: { DATABRICKS_CONFIG_PROFILE: "nope" },
    ini: CFG,
    error: ["AuthError", "(from DATABRICKS_CONFIG_PROFILE)"],
  },
  {
    name: "a named profile with no file at all",
    flags: { profile: "prod" },
    error: ["AuthError", `config file ${FILE} does not exist`],
  },
  {
    name: "default_profile naming a missing profile",
    ini: "[__settings__]\ndefault_profile = gone\n[a]\nhost = h\n",
    error: ["AuthError", "[__settings__] default_profile"],
  },
  {
    name: "__settings__ is not a profile",
    flags: { profile: "__settings__" },
    ini: SETTINGS,
    error: ["AuthError", "reserved"],
  },
  {
    name: "an empty section counts as missing",
    flags: { profile: "DEFAULT" },
    ini: "[DEFAULT]\n\n[p]\nhost = h\n",
    error: ["AuthError", "profiles there: p"],
  },
  {
    name: "pat + oauth without auth_type",
    env: {
      DATABRICKS_HOST: "https://h.cloud.databricks.com",
      DATABRICKS_TOKEN: "t",
      DATABRICKS_CLIENT_ID: "c",
      DATABRICKS_CLIENT_SECRET: "s",
    },
    error: ["AuthError", "more than one authorization method configured: oauth and pat"],
  },
  {
    name: "a PAT profile plus complete M2M env vars conflict (as databricks/cli #5096)",
    flags: { profile: "prod" },
    env: { DATABRICKS_CLIENT_ID: "c", DATABRICKS_CLIENT_SECRET: "s" },
    ini: CFG,
    error: ["AuthError", "more than one authorization method configured: oauth and pat"],
  },
  {
    name: "auth_type settles two methods",
    env: {
      DATABRICKS_HOST: "https://h.cloud.databricks.com",
      DATABRICKS_TOKEN: "t",
      DATABRICKS_CLIENT_ID: "c",
      DATABRICKS_CLIENT_SECRET: "s",
      DATABRICKS_AUTH_TYPE: "oauth-m2m",
    },
    want: { auth_type: "oauth-m2m", token: "t", client_id: "c" },
  },
  {
    name: "a lone client_id next to a token is not a second method",
    env: {
      DATABRICKS_HOST: "https://h.cloud.databricks.com",
      DATABRICKS_TOKEN: "t",
      DATABRICKS_CLIENT_ID: "c",
    },
    want: { token: "t", client_id: "c" },
  },
  {
    name: "an unparseable file is an error naming the line",
    flags: { profile: "prod" },
    ini: "[prod]\nhost = h\nthis line has no delimiter\n",
    error: ["AuthError", `cannot parse config file ${FILE}: line 3`],
  },
  {
    name: "a bad --host is InvalidArgument",
    flags: { host: "ftp://x" },
    error: ["InvalidArgument", "invalid host"],
  },
];

for (const c of cases) {
  Deno.test(`config: ${c.name}`, () => {
    const run = () =>
      resolveConfig({
        flags: c.flags ?? {},
        env: (k) => c.env?.[k],
        iniText: c.ini,
        configFilePath: FILE,
      });
    if (c.error) {
      assertThrows(run, (e) => {
        assert(e instanceof DbxrError, String(e));
        assertEquals(e.code, c.error![0]);
        assertStringIncludes(e.message, c.error![1]);
        assert(e.hint, "config errors carry a hint");
      });
      return;
    }
    const r = run();
    for (const [k, v] of Object.entries(c.want ?? {})) {
      assertEquals((r.config as Record<string, unknown>)[k], v, `config.${k}`);
    }
    for (const [k, v] of Object.entries(c.sources ?? {})) {
      assertEquals((r.sources as Record<string, unknown>)[k], v, `sources.${k}`);
    }
    if ("profile" in c) {
      assertEquals(r.profile, c.profile, "profile");
      assertEquals(r.config.profile, c.profile, "config.profile");
    }
    if (c.profileSource) assertEquals(r.profileSource, c.profileSource, "profileSource");
    assertEquals(r.configFile, FILE);
  });
}

Deno.test("config: the missing-profile error lists profiles in details and hints at a login", () => {
  const e = assertThrows(() =>
    resolveConfig({ flags: { profile: "staging" }, env: () => undefined, iniText: CFG, configFilePath: FILE })
  ) as DbxrError;
  assertEquals(e.details.available_profiles, ["DEFAULT", "prod", "hostonly", "m2m", "u2m", "azure"]);
  assertEquals(e.details.profile_source, "flag");
  assertEquals(e.hint, "databricks auth login --profile staging --host <workspace-url>");
});

Deno.test("config: the conflict error says where each value came from, never the values", () => {
  const e = assertThrows(() =>
    resolveConfig({
      flags: { profile: "prod" },
      env: (k) =>
        ({ DATABRICKS_CLIENT_ID: "c", DATABRICKS_CLIENT_SECRET: "s3cret-value" } as Record<string, string>)[
          k
        ],
      iniText: CFG,
      configFilePath: FILE,
    })
  ) as DbxrError;
  assertStringIncludes(e.message, "token from profile:prod");
  assertStringIncludes(e.message, "client_secret from env");
  assert(!JSON.stringify(e.toJSON()).includes("s3cret-value"));
  assert(!JSON.stringify(e.toJSON()).includes("dapi-prod"));
  assertEquals(e.hint, "dbxr auth describe --profile prod");
});

for (
  const c of [
    { token: "dapi123\r\nX-Evil: 1", where: "DATABRICKS_TOKEN" },
    { token: "dapi\u0000abc", where: "DATABRICKS_TOKEN" },
    { token: "dapi\u2028abc", where: "DATABRICKS_TOKEN" },
  ]
) {
  Deno.test(`config: a token with ${JSON.stringify(c.token.slice(4, 6))} is an AuthError naming ${c.where}, not the value`, () => {
    const e = assertThrows(() =>
      resolveConfig({
        flags: {},
        env: (k) =>
          ({ DATABRICKS_HOST: "https://x.cloud.databricks.com", DATABRICKS_TOKEN: c.token } as Record<
            string,
            string
          >)[k],
        configFilePath: FILE,
      })
    ) as DbxrError;
    assertEquals(e.code, "AuthError");
    assertStringIncludes(e.message, c.where);
    assert(!JSON.stringify(e.toJSON()).includes(c.token.slice(0, 7)), JSON.stringify(e.toJSON()));
  });
}

Deno.test("config: a client_secret with a line break in a profile names the profile key, not the value", () => {
  const e = assertThrows(() =>
    resolveConfig({
      flags: { profile: "bad" },
      env: () => undefined,
      iniText:
        "[bad]\nhost = https://x.cloud.databricks.com\nclient_id = abc\nclient_secret = s3c\u000bret\n",
      configFilePath: FILE,
    })
  ) as DbxrError;
  assertEquals(e.code, "AuthError");
  assertStringIncludes(e.message, `client_secret in profile bad of ${FILE}`);
  assert(!JSON.stringify(e.toJSON()).includes("s3c"));
});

Deno.test("config: validate:false returns a conflicting config for auth describe", () => {
  const r = resolveConfig({
    flags: {},
    env: (k) =>
      ({
        DATABRICKS_HOST: "h.cloud.databricks.com",
        DATABRICKS_TOKEN: "t",
        DATABRICKS_CLIENT_ID: "c",
        DATABRICKS_CLIENT_SECRET: "s",
      } as Record<string, string>)[k],
    configFilePath: FILE,
    validate: false,
  });
  assertEquals(r.config.token, "t");
  assertEquals(r.config.client_secret, "s");
});

Deno.test("config: tried says what was consulted", () => {
  const withHost = resolveConfig({
    flags: {},
    env: (k) => ({ DATABRICKS_HOST: "h.cloud.databricks.com" } as Record<string, string>)[k],
    iniText: CFG,
    configFilePath: FILE,
  });
  assertEquals(withHost.tried, [
    "environment: DATABRICKS_HOST",
    `config file ${FILE}: not read (DATABRICKS_HOST is set)`,
  ]);
  const none = resolveConfig({ flags: {}, env: () => undefined, configFilePath: FILE });
  assertEquals(none.tried, ["environment: no DATABRICKS_* variables set", `config file ${FILE}: not found`]);
  const noDefault = resolveConfig({
    flags: {},
    env: () => undefined,
    iniText: NO_DEFAULT_HOST,
    configFilePath: FILE,
  });
  assertStringIncludes(noDefault.tried[1], "no default profile");
  const prof = resolveConfig({
    flags: { profile: "prod" },
    env: () => undefined,
    iniText: CFG,
    configFilePath: FILE,
  });
  assertEquals(prof.tried[1], `profile prod (--profile) in ${FILE}`);
});

Deno.test("config: host normalisation keeps the emulator's http and port", () => {
  const table: Array<[string, string]> = [
    ["dbc-1.cloud.databricks.com", "https://dbc-1.cloud.databricks.com"],
    ["https://dbc-1.cloud.databricks.com/", "https://dbc-1.cloud.databricks.com"],
    ["https://dbc-1.cloud.databricks.com:443", "https://dbc-1.cloud.databricks.com"],
    ["https://adb-1.2.azuredatabricks.net/?o=123#", "https://adb-1.2.azuredatabricks.net"],
    ["https://dbc-1.cloud.databricks.com/browse/folders", "https://dbc-1.cloud.databricks.com"],
    ["http://127.0.0.1:8123", "http://127.0.0.1:8123"],
    ["http://127.0.0.1:8123/", "http://127.0.0.1:8123"],
    ["HTTPS://DBC-1.Cloud.Databricks.com", "https://dbc-1.cloud.databricks.com"],
    ["https://h.example.com:8443", "https://h.example.com:8443"],
  ];
  for (const [raw, want] of table) assertEquals(normalizeHost(raw), want, raw);
  for (const bad of ["ftp://x", "https://", "http://[::1"]) {
    assertThrows(() => normalizeHost(bad), (e) => assertEquals((e as DbxrError).code, "AuthError"));
  }
});

Deno.test("config: the file's path", () => {
  const env = (m: Record<string, string>) => (k: string) => m[k];
  assertEquals(configFilePath(env({ HOME: "/home/u" }), "linux"), "/home/u/.databrickscfg");
  assertEquals(configFilePath(env({ HOME: "/home/u/" }), "darwin"), "/home/u/.databrickscfg");
  assertEquals(
    configFilePath(env({ USERPROFILE: "C:\\Users\\u", HOME: "/x" }), "windows"),
    "C:\\Users\\u\\.databrickscfg",
  );
  assertEquals(
    configFilePath(env({ HOME: "/home/u", DATABRICKS_CONFIG_FILE: "/etc/dbcfg" }), "linux"),
    "/etc/dbcfg",
  );
  assertEquals(
    configFilePath(env({ HOME: "/home/u", DATABRICKS_CONFIG_FILE: "~/alt.cfg" }), "linux"),
    "/home/u/alt.cfg",
  );
  assertEquals(configFilePath(env({}), "linux"), "~/.databrickscfg");
});

Deno.test("config: needsConfigFile", () => {
  const env = (m: Record<string, string>) => (k: string) => m[k];
  assertEquals(needsConfigFile({}, env({})), true);
  assertEquals(needsConfigFile({}, env({ DATABRICKS_HOST: "h" })), false);
  assertEquals(needsConfigFile({ host: "h" }, env({})), false);
  assertEquals(needsConfigFile({ profile: "p" }, env({ DATABRICKS_HOST: "h" })), true);
  assertEquals(needsConfigFile({}, env({ DATABRICKS_HOST: "h", DATABRICKS_CONFIG_PROFILE: "p" })), true);
});

Deno.test("config: loadConfig reads DATABRICKS_CONFIG_FILE through ctx, and not at all when env decides", async () => {
  const f = fakeCtx({
    env: { HOME: "/home/u", DATABRICKS_CONFIG_FILE: "/alt/cfg", DATABRICKS_CONFIG_PROFILE: "prod" },
    files: { "/alt/cfg": CFG, [FILE]: "[prod]\nhost = wrong\n" },
  });
  const r: ConfigResolution = await loadConfig(f.ctx, {}, { os: "linux" });
  assertEquals(r.configFile, "/alt/cfg");
  assertEquals(r.config.host, "https://prod.cloud.databricks.com");

  // A broken file does not matter when DATABRICKS_HOST decides alone.
  const g = fakeCtx({
    env: { HOME: "/home/u", DATABRICKS_HOST: "h.cloud.databricks.com", DATABRICKS_TOKEN: "t" },
    files: { [FILE]: "garbage without delimiter" },
  });
  const r2 = await loadConfig(g.ctx, {}, { os: "linux" });
  assertEquals(r2.config.host, "https://h.cloud.databricks.com");
});

Deno.test("config: an unreadable file is an AuthError naming it", async () => {
  const f = fakeCtx({ env: { HOME: "/home/u" } });
  f.ctx.readTextFile = () => Promise.reject(new Deno.errors.PermissionDenied("permission denied"));
  const e = await loadConfig(f.ctx, {}, { os: "linux" }).then(() => undefined, (e) => e) as DbxrError;
  assertEquals(e.code, "AuthError");
  assertStringIncludes(e.message, FILE);
});
