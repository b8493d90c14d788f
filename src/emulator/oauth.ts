// OAuth machine-to-machine (docs/databricks-behaviour.md §9.4): OIDC discovery and the client-credentials
// token endpoint. Tokens it issues are accepted as Bearer tokens by every API until they expire.

import { oauthError } from "./errors.ts";
import { type EmuRequest, ok } from "./http.ts";
import type { Router } from "./router.ts";
import type { EmulatorModule, EmulatorState } from "./state.ts";

/** The workspace's own URL: the configured base URL, else the origin the request came in on. */
export function origin(state: EmulatorState, req: EmuRequest): string {
  return (state.baseUrl ?? req.url.origin).replace(/\/+$/, "");
}

function clientCredentials(req: EmuRequest, form: URLSearchParams): { id?: string; secret?: string } {
  const auth = req.headers.get("authorization");
  const m = /^Basic\s+(\S+)\s*$/i.exec(auth ?? "");
  if (m) {
    let decoded = "";
    try {
      decoded = atob(m[1]);
    } catch {
      return {};
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) return { id: decoded };
    // RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
    const part = (s: string) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, " "));
      } catch {
        return s;
      }
    };
    return { id: part(decoded.slice(0, colon)), secret: part(decoded.slice(colon + 1)) };
  }
  return { id: form.get("client_id") ?? undefined, secret: form.get("client_secret") ?? undefined };
}

export function oauthModule(state: EmulatorState): EmulatorModule {
  const discovery = (req: EmuRequest) => {
    const base = origin(state, req);
    return ok({
      issuer: `${base}/oidc`,
      authorization_endpoint: `${base}/oidc/v1/authorize`,
      token_endpoint: `${base}/oidc/v1/token`,
      jwks_uri: `${base}/oidc/jwks.json`,
      grant_types_supported: ["client_credentials", "authorization_code", "refresh_token"],
      response_types_supported: ["code", "id_token"],
      response_modes_supported: ["query", "fragment", "form_post"],
      scopes_supported: ["all-apis", "email", "offline_access", "openid", "profile", "sql"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
      code_challenge_methods_supported: ["S256"],
    });
  };

  const token = (req: EmuRequest) => {
    const form = new URLSearchParams(req.text());
    const { id, secret } = clientCredentials(req, form);
    const { clientId, clientSecret, servicePrincipal } = state.credentials;
    if (!id || id !== clientId || secret !== clientSecret) {
      throw oauthError(401, "invalid_client", "Client authentication failed");
    }
    const grant = form.get("grant_type");
    if (grant !== "client_credentials") {
      throw oauthError(
        400,
        grant ? "unsupported_grant_type" : "invalid_request",
        grant ? `Unsupported grant_type: ${grant}` : "Missing required parameter: grant_type",
      );
    }
    const scope = form.get("scope")?.trim() || "all-apis";
    const ttl = state.settings.tokenTtlSeconds;
    const issued = state.credentials.issue(servicePrincipal, scope, state.now(), ttl);
    return ok({ access_token: issued.accessToken, token_type: "Bearer", expires_in: ttl, scope });
  };

  return {
    name: "oauth",
    routes(router: Router) {
      router.get("/oidc/.well-known/oauth-authorization-server", discovery);
      router.post("/oidc/v1/token", token);
    },
  };
}
