// What every REPL service needs: the context, the session store of the project folder, the connection
// to the session's workspace and cluster. Built once per command by openRepl().

import type { Language } from "../api/commands.ts";
import { connect } from "../api/connect.ts";
import type { ConfigFlags } from "../api/config.ts";
import type { Ctx } from "../ctx.ts";
import type { Session } from "../session/schema.ts";
import { SessionStore } from "../session/store.ts";
import { bindWorkspace, checkWorkspace, requireLive, shellQuote } from "../session/transitions.ts";
import type { Remote } from "./remote.ts";

export interface ReplEnv {
  ctx: Ctx;
  store: SessionStore;
  remote: Remote;
  host: string;
  authType: string;
  profile: string | null;
  /** The project dir as the user gave it ("." by default), for JSON and hints. */
  projectDirLabel: string;
  projectDirQuoted: string;
  /** The live session, checked to belong to this workspace. */
  loadSession(): Promise<Session>;
}

export interface ReplFlags extends ConfigFlags {
  projectDir?: string;
}

export function storeFor(ctx: Ctx, flags: ReplFlags): { store: SessionStore; label: string } {
  const label = flags.projectDir ?? ".";
  return { store: new SessionStore(label, { now: () => ctx.now() }), label };
}

/**
 * For commands that act on an existing session: reads it first (NoSession before any network), then
 * connects to its workspace. A session made against another host or profile is InvalidArgument, so a
 * context id never goes to the wrong workspace.
 */
export async function openRepl(ctx: Ctx, flags: ReplFlags, command: string): Promise<ReplEnv> {
  const { store, label } = storeFor(ctx, flags);
  const first = await store.read();
  requireLive(first);
  const conn = await connect(ctx, flags, command);
  const explicitProfile = flags.profile ?? ctx.env("DATABRICKS_CONFIG_PROFILE");
  const workspace = { host: conn.config.host, ...(explicitProfile ? { profile: explicitProfile } : {}) };
  checkWorkspace(first, workspace, label);
  const env: ReplEnv = {
    ctx,
    store,
    remote: { ctx, client: conn.client, clusterId: first.cluster_id },
    host: conn.config.host!,
    authType: conn.authType,
    profile: conn.profile ?? null,
    projectDirLabel: label,
    projectDirQuoted: shellQuote(label),
    async loadSession() {
      const s = await store.read();
      requireLive(s);
      checkWorkspace(s, workspace, label);
      return s;
    },
  };
  if (first.host === undefined || first.auth_type === undefined) {
    // A session written by the seed's tool: bind it to this workspace on first use.
    await store.update((s) => bindWorkspace(s, { host: env.host, auth_type: env.authType }));
  }
  return env;
}

export function contextLanguage(s: Session): Language {
  return (s.language ?? "python") as Language;
}
