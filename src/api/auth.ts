// Credentials: which method (docs/contract.md §9) and how each one yields an Authorization header. PAT;
// OAuth M2M at <host>/oidc/v1/token; U2M through `databricks auth token`. Tokens live in memory only.

import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import { type ConfigField, describeHint, type ResolvedConfig, unsupportedFields } from "./config.ts";
import { type Credentials, errorFromResponse, parseErrorBody, type Send } from "./http.ts";
import { redactText } from "./redact.ts";
import { shellQuote } from "../shell.ts";

export type AuthType = "pat" | "oauth-m2m" | "databricks-cli";
export const SUPPORTED_AUTH_TYPES: readonly AuthType[] = ["pat", "oauth-m2m", "databricks-cli"];

export interface AuthCredentials extends Credentials {
  authType: AuthType;
}

/** Refresh this long before a token expires, so that it cannot lapse in flight (as the JS SDK). */
export const REFRESH_MARGIN_MS = 40_000;
/** When the token endpoint gives no lifetime: Databricks OAuth tokens live an hour. */
const DEFAULT_TOKEN_LIFETIME_S = 3600;

const HOW_TO_FIX =
  "set DATABRICKS_HOST and DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET), " +
  "name a profile of ~/.databrickscfg with --profile, or log in with `databricks auth login --host <workspace-url>`";

/**
 * The method for a resolved config: auth_type pins it; otherwise a token means pat, a client id and secret
 * mean oauth-m2m. databricks-cli is chosen only by auth_type (which `databricks auth login` writes into
 * the profile), so that a missing token never turns into a surprise subprocess.
 */
export function chooseAuthType(config: ResolvedConfig, tried: readonly string[] = []): AuthType {
  if (!config.host) {
    throw new DbxrError("AuthError", `no Databricks host configured (${triedText(tried)}); ${HOW_TO_FIX}`, {
      hint: describeHint(config.profile),
      details: authDetails(config, tried),
    });
  }
  const pinned = config.auth_type?.trim().toLowerCase();
  if (pinned) {
    if (!(SUPPORTED_AUTH_TYPES as readonly string[]).includes(pinned)) {
      const instead = pinned === "external-browser"
        ? "; for browser login use auth_type = databricks-cli"
        : "";
      throw new DbxrError(
        "AuthError",
        `auth_type ${JSON.stringify(config.auth_type)} is not supported by dbxr; supported: ` +
          `${SUPPORTED_AUTH_TYPES.join(", ")}${instead}`,
        { hint: describeHint(config.profile), details: { ...authDetails(config, tried), auth_type: pinned } },
      );
    }
    const need: Partial<Record<AuthType, ConfigField[]>> = {
      pat: ["token"],
      "oauth-m2m": ["client_id", "client_secret"],
    };
    const missing = (need[pinned as AuthType] ?? []).filter((f) => !config[f]);
    if (missing.length) {
      throw new DbxrError("AuthError", `auth_type is ${pinned} but ${missing.join(" and ")} is not set`, {
        hint: describeHint(config.profile),
        details: { ...authDetails(config, tried), auth_type: pinned, missing },
      });
    }
    return pinned as AuthType;
  }
  if (config.token) return "pat";
  if (config.client_id && config.client_secret) return "oauth-m2m";

  const unsupported = unsupportedFields(config);
  if (unsupported.size) {
    const found = [...unsupported].map(([method, fields]) => `${fields.join(", ")} (${method})`).join("; ");
    throw new DbxrError(
      "AuthError",
      `found settings for an authentication method that dbxr does not support: ${found}; supported: ` +
        `${SUPPORTED_AUTH_TYPES.join(", ")}`,
      {
        hint: describeHint(config.profile),
        details: { ...authDetails(config, tried), unsupported: [...unsupported.keys()] },
      },
    );
  }
  const half = config.client_id ? " (client_id is set but client_secret is not)" : "";
  throw new DbxrError(
    "AuthError",
    `no credentials for ${config.host}${half} (${triedText(tried)}); ${HOW_TO_FIX}`,
    { hint: describeHint(config.profile), details: authDetails(config, tried) },
  );
}

/**
 * Credentials for the config. `send` is the transport (http.ts createSend) that the OAuth token call uses,
 * so that it gets the same timeouts, retries and redacted traces as every other call.
 */
export function createCredentials(
  ctx: Ctx,
  config: ResolvedConfig,
  send: Send,
  opts: { tried?: readonly string[] } = {},
): AuthCredentials {
  const authType = chooseAuthType(config, opts.tried);
  if (authType === "pat") {
    const header = `Bearer ${config.token}`;
    return { authType, header: () => Promise.resolve(header), invalidate() {} };
  }
  if (authType === "oauth-m2m") return cachedTokens(ctx, authType, () => fetchM2mToken(ctx, config, send));
  return cachedTokens(ctx, authType, () => fetchCliToken(ctx, config));
}

interface Token {
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** A token kept until REFRESH_MARGIN_MS before expiry; concurrent callers share one fetch. */
function cachedTokens(ctx: Ctx, authType: AuthType, fetchToken: () => Promise<Token>): AuthCredentials {
  let cached: Token | undefined;
  let inflight: Promise<Token> | undefined;
  return {
    authType,
    async header() {
      if (!cached || ctx.now() >= cached.expiresAt - REFRESH_MARGIN_MS) {
        inflight ??= fetchToken().finally(() => inflight = undefined);
        cached = await inflight;
      }
      return `Bearer ${cached.accessToken}`;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

async function fetchM2mToken(ctx: Ctx, config: ResolvedConfig, send: Send): Promise<Token> {
  const host = config.host!;
  const url = `${host}/oidc/v1/token`;
  const res = await send({
    method: "POST",
    url,
    headers: {
      Authorization: `Basic ${base64(`${config.client_id}:${config.client_secret}`)}`,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ grant_type: "client_credentials", scope: "all-apis" }).toString(),
    // Asking for a token twice is harmless, so a dropped connection may be retried.
    idempotent: true,
    secrets: [config.client_secret!],
  });
  const path = new URL(url).pathname;
  if (res.status >= 400) {
    // Refusals of the client are credential problems; throttling and outages keep their own codes.
    if ([400, 401, 403, 404].includes(res.status)) {
      const parsed = parseErrorBody(res.status, res.statusText, res.text);
      throw new DbxrError(
        "AuthError",
        `oauth-m2m: cannot get a token for client ${config.client_id} from ${url}: ${
          redactText(parsed.message)
        }`,
        {
          hint: describeHint(config.profile),
          details: { http_status: res.status, method: "POST", path, host, auth_type: "oauth-m2m" },
        },
      );
    }
    throw errorFromResponse(res, {
      method: "POST",
      path,
      host,
      profile: config.profile,
      authType: "oauth-m2m",
    });
  }
  let body: { access_token?: unknown; expires_in?: unknown };
  try {
    body = JSON.parse(res.text);
  } catch {
    body = {};
  }
  if (typeof body.access_token !== "string" || body.access_token === "") {
    throw new DbxrError("AuthError", `oauth-m2m: ${url} answered without an access_token`, {
      hint: describeHint(config.profile),
      details: { http_status: res.status, method: "POST", path, host, auth_type: "oauth-m2m" },
    });
  }
  // expires_in may arrive as a string.
  const lifetime = Number(body.expires_in);
  const seconds = Number.isFinite(lifetime) && lifetime > 0 ? lifetime : DEFAULT_TOKEN_LIFETIME_S;
  return { accessToken: body.access_token, expiresAt: ctx.now() + seconds * 1000 };
}

async function fetchCliToken(ctx: Ctx, config: ResolvedConfig): Promise<Token> {
  const cli = config.databricks_cli_path ?? "databricks";
  const args = config.profile
    ? ["auth", "token", "--profile", config.profile]
    : ["auth", "token", "--host", config.host!];
  const login = config.profile
    ? `databricks auth login --profile ${shellQuote(config.profile)}`
    : `databricks auth login --host ${config.host}`;
  const details = {
    auth_type: "databricks-cli",
    command: [cli, ...args].join(" "),
    ...(config.profile ? { profile: config.profile } : {}),
    host: config.host,
  };
  if (ctx.out.debugEnabled) ctx.out.debug(`running ${details.command}`);

  let r;
  try {
    r = await ctx.run(cli, args);
  } catch (e) {
    const name = (e as Error)?.name;
    const why = name === "NotFound"
      ? `the Databricks CLI (${cli}) was not found; install it ` +
        "(https://docs.databricks.com/dev-tools/cli/install.html) and log in"
      : name === "NotCapable" || name === "PermissionDenied"
      ? `running ${cli} is outside dbxr's permission scope (--allow-run=databricks); put the CLI on PATH ` +
        "as `databricks` and unset databricks_cli_path / DATABRICKS_CLI_PATH"
      : `cannot run ${cli}: ${(e as Error)?.message ?? e}`;
    throw new DbxrError("AuthError", `databricks-cli: ${why}`, { hint: login, details, cause: e });
  }
  if (r.code !== 0) {
    const stderr = redactText(r.stderr.trim()) || `exit code ${r.code}`;
    throw new DbxrError("AuthError", `databricks-cli: cannot get access token: ${stderr}`, {
      hint: login,
      details: { ...details, exit_code: r.code },
    });
  }
  let out: { access_token?: unknown; expiry?: unknown };
  try {
    out = JSON.parse(r.stdout);
  } catch {
    out = {};
  }
  if (typeof out.access_token !== "string" || out.access_token === "") {
    throw new DbxrError("AuthError", `databricks-cli: cannot parse the output of ${details.command}`, {
      hint: login,
      details,
    });
  }
  // Without a readable expiry, keep the token briefly: the CLI refreshes it on the next call anyway.
  const expiresAt = parseExpiry(typeof out.expiry === "string" ? out.expiry : "") ??
    ctx.now() + REFRESH_MARGIN_MS + 60_000;
  return { accessToken: out.access_token, expiresAt };
}

/**
 * The CLI prints RFC 3339 with nanoseconds; JavaScript dates take milliseconds, so extra digits are cut.
 * The space-separated local form that the Go SDK also accepts is read as local time, as there.
 */
export function parseExpiry(text: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/i.exec(
    text.trim(),
  );
  if (!m) return undefined;
  const frac = m[3] ? `.${m[3].slice(0, 3).padEnd(3, "0")}` : "";
  const t = Date.parse(`${m[1]}T${m[2]}${frac}${m[4] ?? ""}`);
  return Number.isNaN(t) ? undefined : t;
}

function base64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function triedText(tried: readonly string[]): string {
  return tried.length ? `tried ${tried.join("; ")}` : "nothing configured";
}

function authDetails(config: ResolvedConfig, tried: readonly string[]): Record<string, unknown> {
  return {
    ...(config.host ? { host: config.host } : {}),
    ...(config.profile ? { profile: config.profile } : {}),
    tried: [...tried],
  };
}
