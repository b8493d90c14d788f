// `config init` and `config profiles`: write one profile into the Databricks config file (the file every
// Databricks tool reads, located as src/api/config.ts locates it) and list the profiles there. Secrets are
// read from stdin or the environment, never from argv, and never printed.

import { chooseAuthType } from "../api/auth.ts";
import { configFilePath, normalizeHost, type ResolvedConfig } from "../api/config.ts";
import {
  DEFAULT_SECTION,
  getProfile,
  IniError,
  type IniFile,
  parseIni,
  profileNames,
  SETTINGS_SECTION,
} from "../api/ini.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import { shellQuote } from "../shell.ts";
import { setProfile } from "./ini_edit.ts";

export const CONFIG_FILE_MODE = 0o600;

export interface InitOptions {
  profile?: string;
  host?: string;
  /** `-` reads the token from stdin; unset: DATABRICKS_TOKEN (when no client id is given). */
  token?: string;
  clientId?: string;
  /** `-` reads the secret from stdin; unset: DATABRICKS_CLIENT_SECRET. */
  clientSecret?: string;
  clusterId?: string;
  force: boolean;
  /** The OS whose home and separators apply (tests pin it). */
  os: string;
}

export interface InitReport {
  status: "written";
  config_file: string;
  profile: string;
  host: string;
  auth_type: "pat" | "oauth-m2m";
  cluster_id: string | null;
  /** Whether an existing profile of that name was replaced (--force). */
  replaced: boolean;
  /** Where the secret came from: stdin or the variable's name. */
  secret_from: string;
  next: string;
}

const STDIN = "-";

function usage(message: string, hint: string, details: Record<string, unknown> = {}): DbxrError {
  return new DbxrError("InvalidArgument", message, { hint, details });
}

/** A secret: `-` for stdin, else the variable; a literal on the command line is refused (shell history, ps). */
async function readSecret(
  ctx: Ctx,
  flag: string,
  value: string | undefined,
  envName: string,
): Promise<{ value: string; from: string } | undefined> {
  if (value !== undefined && value !== STDIN) {
    throw usage(
      `${flag} takes "-" (read it from stdin), not the secret itself: a secret on the command line ends up in ` +
        `shell history and process lists. Pipe it in, or set ${envName}.`,
      `printf '%s' "$${envName}" | dbxr config init ... ${flag} -`,
      { flag },
    );
  }
  if (value === STDIN) {
    const text = (await ctx.readStdin()).trim();
    if (text === "") {
      throw usage(
        `${flag} -: standard input was empty`,
        `printf '%s' "$SECRET" | dbxr config init ... ${flag} -`,
      );
    }
    if (/[\r\n]/.test(text)) {
      throw usage(`${flag} -: expected one line on standard input`, "dbxr config init --help");
    }
    return { value: text, from: "stdin" };
  }
  const env = ctx.env(envName)?.trim();
  return env ? { value: env, from: envName } : undefined;
}

function checkProfileName(name: string) {
  if (name === "" || /[\][\r\n]/.test(name) || name !== name.trim()) {
    throw usage(
      `invalid profile name ${JSON.stringify(name)}: use letters, digits, - and _`,
      "dbxr config init --help",
    );
  }
  if (name === SETTINGS_SECTION) {
    throw usage(`[${SETTINGS_SECTION}] is reserved for settings, not a profile`, "dbxr config init --help");
  }
}

function parseConfig(text: string, file: string): IniFile {
  try {
    return parseIni(text);
  } catch (e) {
    if (!(e instanceof IniError)) throw e;
    throw new DbxrError("AuthError", `cannot parse config file ${file}: ${e.message}; fix it by hand first`, {
      hint: `\${EDITOR:-vi} ${shellQuote(file)}`,
      details: { config_file: file, line: e.line },
    });
  }
}

export async function initProfile(ctx: Ctx, o: InitOptions): Promise<InitReport> {
  const profile = o.profile ?? DEFAULT_SECTION;
  checkProfileName(profile);
  const rawHost = o.host ?? ctx.env("DATABRICKS_HOST");
  if (!rawHost?.trim()) {
    throw usage(
      "--host is required: the workspace URL, such as https://<name>.cloud.databricks.com",
      `dbxr config init --profile ${shellQuote(profile)} --host https://<workspace> --token -`,
    );
  }
  const host = normalizeHost(rawHost, o.host !== undefined ? "flag" : "env");

  // Refuse before asking for any secret.
  const file = configFilePath((n) => ctx.env(n), o.os);
  const before = await ctx.readTextFile(file);
  if (before !== undefined && getProfile(parseConfig(before, file), profile) && !o.force) {
    throw usage(
      `profile [${profile}] already exists in ${file}; --force replaces its keys (its comments and the other ` +
        "profiles stay)",
      "dbxr config profiles",
      { config_file: file, profile },
    );
  }

  if (o.token !== undefined && (o.clientId !== undefined || o.clientSecret !== undefined)) {
    throw usage(
      "give either --token (PAT) or --client-id/--client-secret (OAuth M2M), not both",
      "dbxr config init --help",
    );
  }
  const m2m = o.clientId !== undefined || o.clientSecret !== undefined ||
    (o.token === undefined && !ctx.env("DATABRICKS_TOKEN")?.trim() &&
      Boolean(ctx.env("DATABRICKS_CLIENT_ID")?.trim()));
  const entries: Array<[string, string]> = [["host", host]];
  let secretFrom: string;
  let authType: InitReport["auth_type"];
  if (m2m) {
    const clientId = (o.clientId ?? ctx.env("DATABRICKS_CLIENT_ID"))?.trim();
    const secret = await readSecret(ctx, "--client-secret", o.clientSecret, "DATABRICKS_CLIENT_SECRET");
    if (!clientId || !secret) {
      throw usage(
        "OAuth M2M needs a client id (--client-id or DATABRICKS_CLIENT_ID) and a secret (--client-secret - " +
          "with the secret on stdin, or DATABRICKS_CLIENT_SECRET)",
        `printf '%s' "$SECRET" | dbxr config init --profile ${
          shellQuote(profile)
        } --host ${host} --client-id <id> --client-secret -`,
      );
    }
    authType = "oauth-m2m";
    entries.push(["auth_type", authType], ["client_id", clientId], ["client_secret", secret.value]);
    secretFrom = secret.from;
  } else {
    const token = await readSecret(ctx, "--token", o.token, "DATABRICKS_TOKEN");
    if (!token) {
      throw usage(
        "no credentials: pipe a personal access token in with --token - (or set DATABRICKS_TOKEN), or give " +
          "--client-id and --client-secret - for a service principal",
        `printf '%s' "$TOKEN" | dbxr config init --profile ${shellQuote(profile)} --host ${host} --token -`,
      );
    }
    authType = "pat";
    entries.push(["auth_type", authType], ["token", token.value]);
    secretFrom = token.from;
  }
  if (o.clusterId?.trim()) entries.push(["cluster_id", o.clusterId.trim()]);

  const { text, existed } = setProfile(before, profile, entries);
  await ctx.writeTextFile(file, text, { mode: CONFIG_FILE_MODE });
  return {
    status: "written",
    config_file: file,
    profile,
    host,
    auth_type: authType,
    cluster_id: o.clusterId?.trim() || null,
    replaced: existed,
    secret_from: secretFrom,
    next: `dbxr doctor --profile ${shellQuote(profile)}`,
  };
}

export function initText(r: InitReport): string {
  return [
    `${r.replaced ? "replaced" : "wrote"} profile [${r.profile}] in ${r.config_file} (mode 0600)`,
    `host:      ${r.host}`,
    `auth type: ${r.auth_type} (secret from ${r.secret_from})`,
    ...(r.cluster_id ? [`cluster:   ${r.cluster_id}`] : []),
    `next:      ${r.next}`,
  ].join("\n");
}

export interface ProfileInfo {
  name: string;
  host: string | null;
  auth_type: string | null;
  cluster_id: string | null;
  default: boolean;
  /** Why dbxr could not use it, when it cannot. */
  problem?: string;
}

export interface ProfilesReport {
  config_file: string;
  exists: boolean;
  default_profile: string | null;
  profiles: ProfileInfo[];
}

/** The profiles of the config file with host and auth type; secrets are never part of the answer. */
export async function listProfiles(ctx: Ctx, os: string): Promise<ProfilesReport> {
  const file = configFilePath((n) => ctx.env(n), os);
  const text = await ctx.readTextFile(file);
  if (text === undefined) return { config_file: file, exists: false, default_profile: null, profiles: [] };
  const ini = parseConfig(text, file);
  const names = profileNames(ini);
  const wanted = ini.sections.get(SETTINGS_SECTION)?.values.default_profile?.trim() || undefined;
  const defaultProfile = wanted ??
    (ini.sections.get(DEFAULT_SECTION)?.values.host?.trim() ? DEFAULT_SECTION : undefined);
  const profiles = names.map((name): ProfileInfo => {
    const values = ini.sections.get(name)!.values;
    const config: ResolvedConfig = { ...values, profile: name };
    let authType: string | null = null;
    let problem: string | undefined;
    try {
      authType = chooseAuthType(config, [`profile [${name}] in ${file}`]);
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e);
    }
    let host: string | null = values.host?.trim() || null;
    try {
      if (host) host = normalizeHost(host, `profile:${name}`);
    } catch { /* shown as written; chooseAuthType's problem says what is wrong */ }
    return {
      name,
      host,
      auth_type: authType,
      cluster_id: values.cluster_id?.trim() || null,
      default: name === defaultProfile,
      ...(problem ? { problem } : {}),
    };
  });
  return { config_file: file, exists: true, default_profile: defaultProfile ?? null, profiles };
}

export function profilesText(r: ProfilesReport): string {
  if (!r.exists) return `no config file at ${r.config_file}; create a profile with: dbxr config init --help`;
  if (r.profiles.length === 0) return `no profiles in ${r.config_file}`;
  const rows = [
    ["", "PROFILE", "HOST", "AUTH", "CLUSTER"],
    ...r.profiles.map((p) => [
      p.default ? "*" : "",
      p.name,
      p.host ?? "-",
      p.auth_type ?? "-",
      p.cluster_id ?? "-",
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) =>
    r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i])).join("  ").trimEnd()
  );
  const problems = r.profiles.filter((p) => p.problem).map((p) => `[${p.name}]: ${p.problem}`);
  return [r.config_file, ...lines, ...problems].join("\n");
}
