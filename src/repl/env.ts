// What every REPL service needs: the context, the session store of the project folder, the connection
// to the session's workspace and cluster. Built once per command by openRepl().

import { join, normalize } from "../paths.ts";
import type { Language } from "../api/commands.ts";
import { DbxrError, isDbxrError } from "../errors.ts";
import { connect } from "../api/connect.ts";
import type { ConfigFlags } from "../api/config.ts";
import type { Ctx } from "../ctx.ts";
import type { Session } from "../session/schema.ts";
import { SessionStore } from "../session/store.ts";
import { bindWorkspace, checkWorkspace, requireLive } from "../session/transitions.ts";
import { shellQuote } from "../shell.ts";
import { mark } from "../trace.ts";
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

/**
 * A path for the JSON answers, as the seed printed them: under the project dir as the user gave it
 * (`repl_outputs/001_x.stdout` for the default ".", `examples/x/repl_outputs/001_x.stdout` with
 * `--project-dir examples/x`), so that `head` on it works from where the command ran.
 */
export function shownPath(projectDirLabel: string, rel: string): string {
  const q = rel.replace(/^\.\//, "");
  if (projectDirLabel === "." || projectDirLabel === "") return q;
  const dir = normalize(projectDirLabel).replace(/\/+$/, "");
  return q.startsWith(dir + "/") ? q : join(dir, q);
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
  let read: Session | undefined;
  try {
    read = await store.read();
    requireLive(read);
  } catch (e) {
    if (!isDbxrError(e, "NoSession")) throw e;
    // A hint that can be run as it is: this folder, and the destroyed session's cluster and name if any.
    const create = read
      ? `dbxr create --cluster-id ${read.cluster_id} --session-name ${shellQuote(read.session_name)}`
      : "dbxr create --cluster-id ID --session-name NAME";
    throw new DbxrError("NoSession", e.message, {
      hint: `${create} --project-dir ${shellQuote(label)}`,
      details: e.details,
    });
  }
  const first = read;
  // As the seed: the session's own profile when the call names none, so exec/destroy need no --profile.
  const namedProfile = flags.profile ?? ctx.env("DATABRICKS_CONFIG_PROFILE");
  const useProfile = namedProfile ?? (ctx.env("DATABRICKS_HOST") ? undefined : first.profile ?? undefined);
  mark("repl:connect");
  const conn = await connect(ctx, { ...flags, ...(useProfile ? { profile: useProfile } : {}) }, command);
  mark("repl:connected");
  const explicitProfile = namedProfile;
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
