// One call from flags to a ready client: resolve the config, pick the auth method, build the transport,
// the credentials and the client. Nothing is memoised: each command builds its own.

import type { Ctx } from "../ctx.ts";
import { type AuthType, chooseAuthType, createCredentials } from "./auth.ts";
import { type ConfigFlags, type ConfigResolution, loadConfig, type ResolvedConfig } from "./config.ts";
import { ApiClient, buildUserAgent, createSend } from "./http.ts";
import type { RetryPolicy } from "./retry.ts";

export interface Connection {
  config: ResolvedConfig;
  sources: ConfigResolution["sources"];
  client: ApiClient;
  authType: AuthType;
  profile?: string;
  /** Everything resolution found (profile source, config file, what was tried), for `auth describe`. */
  resolution: ConfigResolution;
}

export interface ConnectOptions {
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

/**
 * `command` names the command for the User-Agent (`cmd/<group_verb>`), e.g. "cluster_list"; spaces and
 * other characters outside [A-Za-z0-9_.+-] become "_".
 */
export async function connect(
  ctx: Ctx,
  flags: ConfigFlags,
  command: string,
  opts: ConnectOptions = {},
): Promise<Connection> {
  const resolution = await loadConfig(ctx, flags);
  const { config } = resolution;
  const authType = chooseAuthType(config, resolution.tried);
  const userAgent = buildUserAgent({ authType, command });
  const send = createSend(ctx, { userAgent, timeoutMs: opts.timeoutMs, retry: opts.retry });
  const credentials = createCredentials(ctx, config, send, { tried: resolution.tried });
  const client = new ApiClient(ctx, {
    host: config.host!,
    credentials,
    userAgent,
    send,
    profile: resolution.profile,
  });
  return {
    config,
    sources: resolution.sources,
    client,
    authType,
    ...(resolution.profile ? { profile: resolution.profile } : {}),
    resolution,
  };
}
