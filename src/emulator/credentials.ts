// Who may call the fake workspace: one user with a personal access token, and one service principal
// that trades its client id and secret for short-lived OAuth access tokens
// (docs/databricks-behaviour.md §9.3, §9.4).

import { authError } from "./errors.ts";
import type { EmulatorHttpError } from "./errors.ts";
import { createRng, type Rng } from "./random.ts";

export interface Principal {
  kind: "user" | "service-principal";
  /** SCIM id (a numeric string). */
  id: string;
  /** An e-mail address for users; the application id (a UUID) for service principals. */
  userName: string;
  displayName: string;
  /** How this request authenticated, as the SDKs name it in their User-Agent. */
  authType: "pat" | "oauth-m2m";
}

export interface IssuedToken {
  accessToken: string;
  principal: Principal;
  scope: string;
  issuedAt: number;
  expiresAt: number;
}

/** A token handed to one execution context (its notebook context's `apiToken()`). */
interface ContextToken {
  principal: Principal;
  contextId: string;
  uses: number;
}

const base64url = (s: string) => btoa(s).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

export class Credentials {
  readonly token: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly user: Principal;
  readonly servicePrincipal: Principal;
  #issued = new Map<string, IssuedToken>();
  #contextTokens = new Map<string, ContextToken>();
  /** Revoked context tokens stay known as secrets, so that the request log still hides them. */
  #revoked = new Set<string>();
  #rng: Rng;
  #contextRng: Rng;

  constructor(secretSeed: number, readonly workspaceHostHint = "dbxr-emulator") {
    const rng = createRng(secretSeed, "credentials");
    this.#rng = createRng(secretSeed, "oauth-tokens");
    this.#contextRng = createRng(secretSeed, "context-tokens");
    this.token = `dapi${rng.hex(32)}`;
    this.clientId = rng.uuid();
    this.clientSecret = `dose${rng.alnum(32)}`;
    this.user = {
      kind: "user",
      id: rng.digits(16),
      userName: "dbxr-dev@example.com",
      displayName: "dbxr dev",
      authType: "pat",
    };
    this.servicePrincipal = {
      kind: "service-principal",
      id: rng.digits(16),
      userName: this.clientId,
      displayName: "dbxr-emulator-sp",
      authType: "oauth-m2m",
    };
  }

  /** A JWT-shaped access token, as Databricks issues (clients must treat it as opaque). */
  issue(principal: Principal, scope: string, now: number, ttlSeconds: number): IssuedToken {
    const iat = Math.floor(now / 1000);
    const header = base64url(JSON.stringify({ kid: this.#rng.hex(16), typ: "at+jwt", alg: "RS256" }));
    const payload = base64url(JSON.stringify({
      client_id: this.clientId,
      scope,
      iss: `https://${this.workspaceHostHint}/oidc`,
      aud: this.clientId,
      sub: principal.userName,
      iat,
      exp: iat + ttlSeconds,
      jti: this.#rng.uuid(),
    }));
    const signature = base64url(this.#rng.hex(64));
    const issued: IssuedToken = {
      accessToken: `${header}.${payload}.${signature}`,
      principal,
      scope,
      issuedAt: now,
      expiresAt: now + ttlSeconds * 1000,
    };
    this.#issued.set(issued.accessToken, issued);
    return issued;
  }

  /**
   * A token for one execution context, acting as the principal that created it. It has a PAT's shape
   * (clients and redaction treat it as one) but is a separate secret, valid until the context goes, so
   * that tests can tell code inside a context from the user calling with the PAT.
   */
  issueContextToken(principal: Principal, contextId: string): string {
    const token = `dapi${this.#contextRng.hex(32)}`;
    this.#contextTokens.set(token, { principal, contextId, uses: 0 });
    return token;
  }

  revokeContextToken(token: string): void {
    if (this.#contextTokens.delete(token)) this.#revoked.add(token);
  }

  /** Requests that authenticated with this context token so far. */
  contextTokenUses(token: string): number {
    return this.#contextTokens.get(token)?.uses ?? 0;
  }

  /**
   * How an accepted `Authorization` header authenticated, for the request log: `pat`, `oauth` or
   * `context:<contextId>`; undefined when it is not accepted.
   */
  credentialKind(authorization: string | null): string | undefined {
    const token = bearer(authorization);
    if (token === undefined) return undefined;
    if (token === this.token) return "pat";
    if (this.#issued.has(token)) return "oauth";
    const ctx = this.#contextTokens.get(token);
    return ctx ? `context:${ctx.contextId}` : undefined;
  }

  /**
   * The principal behind an `Authorization` header, or the error a workspace answers. Real workspaces
   * refuse OAuth tokens shortly before they expire ("Token is expiring within 30 seconds. (token
   * expired)", databricks-vscode#583), hence `skewSeconds`.
   */
  authenticate(
    authorization: string | null,
    now: number,
    skewSeconds: number,
  ): Principal | EmulatorHttpError {
    const token = bearer(authorization);
    if (token === undefined) {
      return authError(401, "Credential was not sent or was of an unsupported type for this API.");
    }
    if (token === this.token) return this.user;
    const ctx = this.#contextTokens.get(token);
    if (ctx) {
      ctx.uses++;
      return ctx.principal;
    }
    const issued = this.#issued.get(token);
    if (!issued) return authError(403, "Invalid access token.");
    if (now >= issued.expiresAt) return authError(403, "Invalid access token.");
    // Short test lifetimes keep at least half of their life usable.
    const skew = Math.min(skewSeconds, Math.floor((issued.expiresAt - issued.issuedAt) / 2000));
    if (now >= issued.expiresAt - skew * 1000) {
      return authError(403, `Token is expiring within ${skew} seconds. (token expired)`);
    }
    return issued.principal;
  }

  /** Every secret value this emulator knows, longest first, for redaction. */
  secretValues(): string[] {
    return [
      this.token,
      this.clientSecret,
      ...this.#issued.keys(),
      ...this.#contextTokens.keys(),
      ...this.#revoked,
    ]
      .sort((a, b) => b.length - a.length);
  }
}

function bearer(authorization: string | null): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
}
