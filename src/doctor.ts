// dbxr doctor: each link of the chain from config to clusters, checked in order, each with a fix.
// A failed link stops the checks that depend on it, so the first failure is the one to fix.

import { chooseAuthType } from "./api/auth.ts";
import * as clusters from "./api/clusters.ts";
import type { ConfigFlags } from "./api/config.ts";
import { loadConfig } from "./api/config.ts";
import { connect } from "./api/connect.ts";
import * as scim from "./api/scim.ts";
import { isAllPurpose, isRunning } from "./clusters/find.ts";
import type { Ctx } from "./ctx.ts";
import { type DbxrError, toDbxrError } from "./errors.ts";
import { plainStyle, type Style } from "./table.ts";

export interface Check {
  check: "config" | "host" | "credentials" | "clusters";
  ok: boolean;
  detail: string;
  hint?: string;
  error?: string;
}

export interface DoctorReport {
  status: "ok" | "failed";
  host?: string;
  profile?: string;
  auth_type?: string;
  checks: Check[];
}

const FAIL_HINTS: Partial<Record<string, string>> = {
  NetworkError: "check the host URL and your network or proxy (HTTPS_PROXY), then run dbxr doctor --debug",
  HostNotAllowed: "the host is outside dbxr's network scope; see README 'Permissions and custom hosts'",
};

function failed(check: Check["check"], e: unknown): Check {
  const err = toDbxrError(e);
  return {
    check,
    ok: false,
    detail: err.message,
    error: err.code,
    ...(err.hint || FAIL_HINTS[err.code] ? { hint: err.hint ?? FAIL_HINTS[err.code] } : {}),
  };
}

export async function runDoctor(
  ctx: Ctx,
  flags: ConfigFlags,
): Promise<{ report: DoctorReport; firstError?: DbxrError }> {
  const checks: Check[] = [];
  const report: DoctorReport = { status: "ok", checks };
  const done = (firstError?: DbxrError) => {
    report.status = checks.every((c) => c.ok) ? "ok" : "failed";
    return { report, firstError };
  };

  // 1. Config: a host and exactly one usable auth method.
  try {
    const r = await loadConfig(ctx, flags);
    const authType = chooseAuthType(r.config, r.tried);
    report.host = r.config.host;
    if (r.profile) report.profile = r.profile;
    report.auth_type = authType;
    const from = r.profile ? `profile ${r.profile} of ${r.configFile}` : "environment variables";
    checks.push({
      check: "config",
      ok: true,
      detail: `host ${r.config.host} and ${authType} credentials from ${from}`,
    });
  } catch (e) {
    checks.push(failed("config", e));
    return done(toDbxrError(e));
  }

  // 2 + 3. One authenticated call answers both "reachable?" and "are the credentials good?".
  const conn = await connect(ctx, flags, "doctor", { retry: { maxAttempts: 2, budgetMs: 10_000 } });
  try {
    const me = await scim.whoami(conn.client, ctx.signal);
    checks.push({ check: "host", ok: true, detail: `${conn.config.host} answered` });
    checks.push({ check: "credentials", ok: true, detail: `authenticated as ${me.user.userName}` });
  } catch (e) {
    const err = toDbxrError(e);
    if (err.code === "NetworkError" || err.code === "HostNotAllowed") {
      checks.push(failed("host", err));
    } else {
      checks.push({
        check: "host",
        ok: true,
        detail: `${conn.config.host} answered (HTTP ${err.details.http_status ?? "?"})`,
      });
      checks.push(failed("credentials", err));
    }
    return done(err);
  }

  // 4. Clusters: the REPL needs a classic all-purpose cluster.
  try {
    const all = (await clusters.list(conn.client)).filter(isAllPurpose);
    const running = all.filter((c) => isRunning(c.state));
    if (all.length === 0) {
      checks.push({
        check: "clusters",
        ok: false,
        detail: "no all-purpose cluster is visible to these credentials",
        hint: "create one in the workspace UI (Compute), or ask for CAN_ATTACH_TO on an existing one",
      });
    } else {
      checks.push({
        check: "clusters",
        ok: true,
        detail: `${all.length} all-purpose cluster(s) visible, ${running.length} running`,
        ...(running.length === 0 ? { hint: `dbxr cluster start ${all[0].cluster_id} --wait` } : {}),
      });
    }
  } catch (e) {
    checks.push(failed("clusters", e));
    return done(toDbxrError(e));
  }
  return done();
}

export function doctorText(r: DoctorReport, style: Style = plainStyle): string {
  const lines = r.checks.map((c) =>
    `${c.ok ? style.state("ok") + "  " : style.state("FAIL")} ${c.check.padEnd(12)} ${c.detail}${
      c.hint ? `\n     ${"".padEnd(12)} fix: ${c.hint}` : ""
    }`
  );
  return [...lines, r.status === "ok" ? "all checks passed" : "some checks failed"].join("\n");
}
