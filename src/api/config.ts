// Where host and credentials come from: flags, DATABRICKS_* variables and ~/.databrickscfg, resolved with
// the Databricks CLI's rules (docs/contract.md §9, docs/databricks-behaviour.md §9.2). resolveConfig is pure;
// loadConfig adds the file read.

import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import {
  DEFAULT_SECTION,
  getProfile,
  IniError,
  type IniFile,
  type IniSection,
  parseIni,
  profileNames,
  SETTINGS_SECTION,
} from "./ini.ts";
import { shellQuote } from "../shell.ts";

export interface ConfigFlags {
  profile?: string;
  host?: string;
}

interface FieldSpec {
  /** The attribute and .databrickscfg key. */
  name: string;
  /** The variable that sets it. Only DATABRICKS_* are read: others (ARM_*, GOOGLE_CREDENTIALS) are outside
   * the --allow-env scope, and reading them would make `deno run` prompt. */
  env?: string;
  /** Host, routing and credentials: an explicitly named profile wins over env for these. */
  auth: boolean;
  /** The method it belongs to, for fields that only an unsupported method uses. */
  unsupported?: string;
}

const FIELD_SPECS = [
  { name: "host", env: "DATABRICKS_HOST", auth: true },
  { name: "token", env: "DATABRICKS_TOKEN", auth: true },
  { name: "client_id", env: "DATABRICKS_CLIENT_ID", auth: true },
  { name: "client_secret", env: "DATABRICKS_CLIENT_SECRET", auth: true },
  { name: "auth_type", env: "DATABRICKS_AUTH_TYPE", auth: true },
  { name: "cluster_id", env: "DATABRICKS_CLUSTER_ID", auth: false },
  { name: "databricks_cli_path", env: "DATABRICKS_CLI_PATH", auth: false },
  { name: "username", env: "DATABRICKS_USERNAME", auth: true, unsupported: "basic" },
  { name: "password", env: "DATABRICKS_PASSWORD", auth: true, unsupported: "basic" },
  {
    name: "metadata_service_url",
    env: "DATABRICKS_METADATA_SERVICE_URL",
    auth: true,
    unsupported: "metadata-service",
  },
  {
    name: "azure_workspace_resource_id",
    env: "DATABRICKS_AZURE_RESOURCE_ID",
    auth: true,
    unsupported: "azure",
  },
  { name: "azure_client_id", auth: true, unsupported: "azure-client-secret" },
  { name: "azure_client_secret", auth: true, unsupported: "azure-client-secret" },
  { name: "azure_tenant_id", auth: true, unsupported: "azure-client-secret" },
  { name: "azure_use_msi", auth: true, unsupported: "azure-msi" },
  { name: "azure_environment", auth: true, unsupported: "azure" },
  {
    name: "google_service_account",
    env: "DATABRICKS_GOOGLE_SERVICE_ACCOUNT",
    auth: true,
    unsupported: "google-id",
  },
  { name: "google_credentials", auth: true, unsupported: "google-credentials" },
  { name: "oidc_token_env", env: "DATABRICKS_OIDC_TOKEN_ENV", auth: true, unsupported: "env-oidc" },
  {
    name: "databricks_id_token_filepath",
    env: "DATABRICKS_OIDC_TOKEN_FILEPATH",
    auth: true,
    unsupported: "file-oidc",
  },
] as const satisfies readonly FieldSpec[];

export type ConfigField = (typeof FIELD_SPECS)[number]["name"];
export const CONFIG_FIELDS: readonly ConfigField[] = FIELD_SPECS.map((f) => f.name);
/** Fields whose values must never be shown. */
export const SECRET_FIELDS: ReadonlySet<ConfigField> = new Set([
  "token",
  "client_secret",
  "password",
  "azure_client_secret",
  "google_credentials",
]);

export type ResolvedConfig = { [K in ConfigField]?: string } & {
  /** The profile whose values were used, if any. */
  profile?: string;
};

/** Where a value came from: a flag, a DATABRICKS_* variable, or a profile of the config file. */
export type ConfigSource = "flag" | "env" | `profile:${string}` | "default";
/** How the profile was chosen: --profile, DATABRICKS_CONFIG_PROFILE, [__settings__].default_profile, [DEFAULT]. */
export type ProfileSource = "flag" | "env" | "settings" | "default";

export interface ConfigResolution {
  config: ResolvedConfig;
  sources: Partial<Record<ConfigField, ConfigSource>>;
  profile?: string;
  profileSource?: ProfileSource;
  configFile: string;
  /** What was consulted, in words, for error messages and `dbxr auth describe`. */
  tried: string[];
}

export interface ResolveInput {
  flags: ConfigFlags;
  env: (name: string) => string | undefined;
  /** The config file's text; undefined when it does not exist (or was not read because it is not needed). */
  iniText?: string;
  configFilePath: string;
  /** Check for conflicting methods (default true); `auth describe` turns it off to show a broken config. */
  validate?: boolean;
}

const PROFILE_ENV = "DATABRICKS_CONFIG_PROFILE";

/** How each profile source is named in messages. */
const PROFILE_SOURCE_TEXT: Record<ProfileSource, string> = {
  flag: "--profile",
  env: PROFILE_ENV,
  settings: "[__settings__] default_profile",
  default: "the [DEFAULT] fallback",
};

/** The config file: DATABRICKS_CONFIG_FILE (with ~ expanded), else ~/.databrickscfg (USERPROFILE on Windows). */
export function configFilePath(env: (name: string) => string | undefined, os: string): string {
  const home = os === "windows"
    ? nonEmpty(env("USERPROFILE")) ?? nonEmpty(env("HOME"))
    : nonEmpty(env("HOME"));
  const sep = os === "windows" ? "\\" : "/";
  const explicit = nonEmpty(env("DATABRICKS_CONFIG_FILE"));
  if (explicit) {
    return home && (explicit === "~" || /^~[\\/]/.test(explicit)) ? home + explicit.slice(1) : explicit;
  }
  return home ? `${home.replace(/[\\/]+$/, "")}${sep}.databrickscfg` : "~/.databrickscfg";
}

/** Whether resolution will look at the file: not when no profile is named and a host comes from flag or env. */
export function needsConfigFile(flags: ConfigFlags, env: (name: string) => string | undefined): boolean {
  if (nonEmpty(flags.profile) || nonEmpty(env(PROFILE_ENV))) return true;
  return !(nonEmpty(flags.host) || nonEmpty(env("DATABRICKS_HOST")));
}

export function resolveConfig(input: ResolveInput): ConfigResolution {
  const { flags, configFilePath: file } = input;
  const env = (name: string) => nonEmpty(input.env(name));
  const tried: string[] = [];

  const envValues: Partial<Record<ConfigField, string>> = {};
  for (const f of FIELD_SPECS) {
    const spec: FieldSpec = f;
    const v = spec.env ? env(spec.env) : undefined;
    if (v !== undefined) envValues[f.name] = v;
  }
  const envNames = FIELD_SPECS.flatMap((f) => {
    const spec: FieldSpec = f;
    return spec.env && envValues[f.name] !== undefined ? [spec.env] : [];
  });
  tried.push(
    envNames.length ? `environment: ${envNames.join(", ")}` : "environment: no DATABRICKS_* variables set",
  );

  // Which profile, if any (ResolveDefaultProfile in databricks/cli, never "the only profile in the file").
  let profile: { name: string; source: ProfileSource; section: IniSection } | undefined;
  const explicitName = nonEmpty(flags.profile) ?? env(PROFILE_ENV);
  if (explicitName !== undefined) {
    const source: ProfileSource = nonEmpty(flags.profile) ? "flag" : "env";
    const ini = parseFile(input.iniText, file);
    const section = ini && explicitName !== SETTINGS_SECTION ? getProfile(ini, explicitName) : undefined;
    if (!section) throw missingProfile(explicitName, source, file, ini);
    profile = { name: explicitName, source, section };
  } else if (nonEmpty(flags.host) || envValues.host) {
    tried.push(
      `config file ${file}: not read (${nonEmpty(flags.host) ? "--host" : "DATABRICKS_HOST"} is set)`,
    );
  } else {
    const ini = parseFile(input.iniText, file);
    if (!ini) {
      tried.push(`config file ${file}: not found`);
    } else {
      const wanted = nonEmpty(ini.sections.get(SETTINGS_SECTION)?.values.default_profile);
      const fallback = getProfile(ini, DEFAULT_SECTION);
      if (wanted !== undefined) {
        const section = getProfile(ini, wanted);
        if (!section) throw missingProfile(wanted, "settings", file, ini);
        profile = { name: wanted, source: "settings", section };
      } else if (fallback && nonEmpty(fallback.values.host)) {
        profile = { name: DEFAULT_SECTION, source: "default", section: fallback };
      } else {
        tried.push(
          `config file ${file}: no default profile ([__settings__] default_profile unset, [DEFAULT] has no host)`,
        );
      }
    }
  }
  if (profile) tried.push(`profile ${profile.name} (${PROFILE_SOURCE_TEXT[profile.source]}) in ${file}`);

  // An explicitly named profile owns host and credentials, env only fills its gaps (ProfileAuthLoaders);
  // a profile picked by default follows the SDK's env-first chain; non-auth fields are env-first always.
  const profileFirst = profile !== undefined && (profile.source === "flag" || profile.source === "env");
  const config: ResolvedConfig = {};
  const sources: ConfigResolution["sources"] = {};
  for (const f of FIELD_SPECS) {
    const fromEnv = envValues[f.name];
    const fromProfile = profile ? nonEmpty(profile.section.values[f.name]) : undefined;
    const envWins = !(profileFirst && f.auth);
    const [value, source]: [string | undefined, ConfigSource] = envWins
      ? fromEnv !== undefined ? [fromEnv, "env"] : [fromProfile, `profile:${profile?.name}`]
      : fromProfile !== undefined
      ? [fromProfile, `profile:${profile?.name}`]
      : [fromEnv, "env"];
    if (value !== undefined) {
      config[f.name] = value;
      sources[f.name] = source;
    }
  }
  const flagHost = nonEmpty(flags.host);
  if (flagHost !== undefined) {
    config.host = flagHost;
    sources.host = "flag";
  }
  if (config.host !== undefined) config.host = normalizeHost(config.host, sources.host ?? "env");
  if (profile) config.profile = profile.name;

  const resolution: ConfigResolution = {
    config,
    sources,
    profile: profile?.name,
    profileSource: profile?.source,
    configFile: file,
    tried,
  };
  if (input.validate !== false) validateConfig(resolution);
  return resolution;
}

/** Reads the file through ctx (only when resolution needs it) and resolves. */
export async function loadConfig(
  ctx: Ctx,
  flags: ConfigFlags,
  opts: { validate?: boolean; os?: string } = {},
): Promise<ConfigResolution> {
  const env = (name: string) => ctx.env(name);
  const file = configFilePath(env, opts.os ?? Deno.build.os);
  let iniText: string | undefined;
  if (needsConfigFile(flags, env)) {
    try {
      iniText = await ctx.readTextFile(file);
    } catch (e) {
      throw new DbxrError("AuthError", `cannot read config file ${file}: ${(e as Error).message ?? e}`, {
        hint: "dbxr auth describe",
        details: { config_file: file },
        cause: e,
      });
    }
  }
  return resolveConfig({ flags, env, iniText, configFilePath: file, validate: opts.validate });
}

/**
 * Two complete methods and no auth_type to choose between them is an error, as in the SDKs, rather than a
 * silent pick (docs/contract.md §9). Partial leftovers (a lone client_id) do not count.
 */
export function validateConfig(r: ConfigResolution): void {
  checkCredentialText(r);
  const c = r.config;
  if (c.auth_type) return;
  const methods: Array<[string, ConfigField[]]> = [
    ["basic", ["username", "password"]],
    ["oauth", ["client_id", "client_secret"]],
    ["pat", ["token"]],
  ];
  const complete = methods.filter(([, fields]) => fields.every((f) => c[f] !== undefined));
  if (complete.length < 2) return;
  const where = complete.flatMap(([, fields]) => fields.map((f) => `${f} from ${r.sources[f]}`)).join(", ");
  throw new DbxrError(
    "AuthError",
    `more than one authorization method configured: ${complete.map(([m]) => m).join(" and ")} (${where}); ` +
      "set auth_type (or DATABRICKS_AUTH_TYPE) to choose one, or remove the other",
    {
      hint: describeHint(r.profile),
      details: {
        methods: complete.map(([m]) => m),
        sources: Object.fromEntries(complete.flatMap(([, fs]) => fs.map((f) => [f, r.sources[f]]))),
        ...(r.profile ? { profile: r.profile } : {}),
        config_file: r.configFile,
      },
    },
  );
}

/** Fields that end up inside an HTTP header (Authorization, or Basic for the OAuth token call). */
const HEADER_FIELDS: readonly ConfigField[] = ["token", "client_id", "client_secret"];

/**
 * A credential with a line break or another control character (a pasted token with its newline, a
 * Windows-edited file) cannot go into a header; fetch would refuse it with an error that quotes the whole
 * header. Say which variable or profile key is wrong, never its value.
 */
export function checkCredentialText(r: ConfigResolution): void {
  for (const f of HEADER_FIELDS) {
    const value = r.config[f];
    // deno-lint-ignore no-control-regex
    if (value === undefined || !/[\x00-\x1f\x7f]|[^\x00-\xff]/.test(value)) continue;
    const source = r.sources[f];
    const spec = FIELD_SPECS.find((s) => s.name === f);
    const where = source?.startsWith("profile:")
      ? `${f} in profile ${source.slice("profile:".length)} of ${r.configFile}`
      : spec && "env" in spec
      ? spec.env
      : f;
    throw new DbxrError(
      "AuthError",
      `${where} contains a line break, a control character or a non-Latin-1 character, so it cannot be ` +
        "sent in an HTTP header; set it again without them (the value is not shown)",
      {
        hint: describeHint(r.profile),
        details: { field: f, source: source ?? "unknown", ...(r.profile ? { profile: r.profile } : {}) },
      },
    );
  }
}

/**
 * Scheme, host and port only (as the Go SDK): `https://` added when missing, the default port, any path,
 * query and trailing "/" dropped. http:// and other ports are kept, for the emulator on 127.0.0.1:PORT.
 */
export function normalizeHost(raw: string, source: ConfigSource = "env"): string {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL | undefined;
  try {
    url = new URL(withScheme);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.hostname === "") {
    const from = source === "flag" ? "--host" : source === "env" ? "DATABRICKS_HOST" : source;
    throw new DbxrError(
      source === "flag" ? "InvalidArgument" : "AuthError",
      `invalid host ${
        JSON.stringify(raw)
      } (from ${from}): expected a workspace URL such as https://<name>.cloud.databricks.com`,
      { hint: "dbxr auth describe", details: { host: raw, source } },
    );
  }
  return url.origin;
}

/** The hint for auth trouble: `dbxr auth describe`, with the profile that was used. */
export function describeHint(profile?: string): string {
  return profile ? `dbxr auth describe --profile ${shellQuote(profile)}` : "dbxr auth describe";
}

/** Names of the unsupported methods that the config has fields for, with those fields. */
export function unsupportedFields(config: ResolvedConfig): Map<string, ConfigField[]> {
  const found = new Map<string, ConfigField[]>();
  for (const f of FIELD_SPECS) {
    const spec: FieldSpec = f;
    if (spec.unsupported && config[f.name] !== undefined) {
      found.set(spec.unsupported, [...(found.get(spec.unsupported) ?? []), f.name]);
    }
  }
  return found;
}

function parseFile(text: string | undefined, file: string): IniFile | undefined {
  if (text === undefined) return undefined;
  try {
    return parseIni(text);
  } catch (e) {
    if (!(e instanceof IniError)) throw e;
    throw new DbxrError("AuthError", `cannot parse config file ${file}: ${e.message}`, {
      hint: "dbxr auth describe",
      details: { config_file: file, line: e.line },
    });
  }
}

function missingProfile(
  name: string,
  source: ProfileSource,
  file: string,
  ini: IniFile | undefined,
): DbxrError {
  const available = ini ? profileNames(ini) : [];
  const where = ini === undefined
    ? `config file ${file} does not exist`
    : name === SETTINGS_SECTION
    ? `[${SETTINGS_SECTION}] is reserved for settings, not a profile`
    : `${file} has no profile [${name}]` +
      (available.length ? `; profiles there: ${available.join(", ")}` : "; it has no profiles");
  return new DbxrError(
    "AuthError",
    `profile ${JSON.stringify(name)} (from ${PROFILE_SOURCE_TEXT[source]}): ${where}`,
    {
      hint: `databricks auth login --profile ${shellQuote(name)} --host <workspace-url>`,
      details: { profile: name, profile_source: source, config_file: file, available_profiles: available },
    },
  );
}

function nonEmpty(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === "" ? undefined : t;
}
