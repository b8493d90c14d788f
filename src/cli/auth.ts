// `auth whoami|describe` and `doctor`: thin commands over src/api and src/doctor.ts.

import { Command } from "@commander-js/extra-typings";
import { chooseAuthType } from "../api/auth.ts";
import { loadConfig } from "../api/config.ts";
import { connect } from "../api/connect.ts";
import * as scim from "../api/scim.ts";
import type { Ctx } from "../ctx.ts";
import { doctorText, runDoctor } from "../doctor.ts";
import { toDbxrError } from "../errors.ts";
import { examples, globals } from "./root.ts";

export function authCommands(ctx: Ctx) {
  const group = new Command("auth").description("Show which workspace and credentials dbxr uses");
  examples(group, ["dbxr auth describe", "dbxr auth whoami --profile prod"]);

  group.addCommand(examples(
    new Command("describe")
      .description(
        "Show the host, profile, auth type and config file that dbxr resolved, and where each value came " +
          "from (flag, env, profile:<name>). Never prints a secret. Works with a broken config too.",
      )
      .action(async (_o, c) => {
        const r = await loadConfig(ctx, globals(c), { validate: false });
        let authType: string | undefined;
        let problem: { error: string; message: string; hint?: string } | undefined;
        try {
          authType = chooseAuthType(r.config, r.tried);
          await loadConfig(ctx, globals(c)); // the conflicting-methods check, reported rather than thrown
        } catch (e) {
          const err = toDbxrError(e);
          problem = { error: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
        }
        const described = {
          host: r.config.host ?? null,
          profile: r.profile ?? null,
          profile_source: r.profileSource ?? null,
          auth_type: authType ?? null,
          config_file: r.configFile,
          cluster_id: r.config.cluster_id ?? null,
          sources: r.sources,
          tried: r.tried,
          ...(problem ? { problem } : {}),
        };
        ctx.out.result(described, { text: describeText });
      }),
    ["dbxr auth describe", "dbxr auth describe --profile prod --json"],
  ));

  group.addCommand(examples(
    new Command("whoami")
      .description("Show the user (or service principal) that the credentials belong to (SCIM Me)")
      .action(async (_o, c) => {
        const conn = await connect(ctx, globals(c), "auth_whoami");
        const me = await scim.whoami(conn.client, ctx.signal);
        const who = {
          user_name: me.user.userName,
          display_name: me.user.displayName ?? null,
          id: me.user.id,
          active: me.user.active ?? true,
          workspace_id: me.workspaceId ?? null,
          host: conn.config.host,
          auth_type: conn.authType,
        };
        ctx.out.result(who, { text: (w) => `${w.user_name} on ${w.host} (${w.auth_type})` });
      }),
    ["dbxr auth whoami"],
  ));
  return group;
}

export function doctorCommand(ctx: Ctx) {
  return examples(
    new Command("doctor")
      .description(
        "Check the chain from config to clusters: config found, host reachable, credentials valid, " +
          "clusters visible. Each failed check says how to fix it; exits with the first failure's code.",
      )
      .action(async (_o, c) => {
        const { report, firstError } = await runDoctor(ctx, globals(c));
        ctx.out.result(report, {
          text: doctorText,
          ...(firstError
            ? { exitCode: firstError.exitCode }
            : report.status === "failed"
            ? { exitCode: 1 }
            : {}),
        });
      }),
    ["dbxr doctor", "dbxr doctor --profile prod --text"],
  );
}

type Described = {
  host: string | null;
  profile: string | null;
  auth_type: string | null;
  config_file: string;
  sources: Record<string, string | undefined>;
  problem?: { message: string; hint?: string };
};

function describeText(d: Described): string {
  const src = (f: string) => d.sources[f] ? `  (from ${d.sources[f]})` : "";
  const lines = [
    `host:        ${d.host ?? "(none)"}${src("host")}`,
    `profile:     ${d.profile ?? "(none)"}`,
    `auth type:   ${d.auth_type ?? "(none)"}${src("auth_type")}`,
    `config file: ${d.config_file}`,
  ];
  const credFields = Object.keys(d.sources).filter((f) => f !== "host" && f !== "auth_type");
  if (credFields.length) {
    lines.push(`values:      ${credFields.map((f) => `${f} from ${d.sources[f]}`).join(", ")}`);
  }
  if (d.problem) {
    lines.push(
      `problem:     ${d.problem.message}`,
      ...(d.problem.hint ? [`next:        ${d.problem.hint}`] : []),
    );
  }
  return lines.join("\n");
}
