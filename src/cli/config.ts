// `config init|profiles`: thin commands over src/config/profiles.ts.

import { Command } from "@commander-js/extra-typings";
import type { Ctx } from "../ctx.ts";
import { initProfile, initText, listProfiles, profilesText } from "../config/profiles.ts";
import { examples, globals } from "./root.ts";

export function configCommands(ctx: Ctx, os: string) {
  const group = new Command("config").description(
    "Write and list profiles of the Databricks config file (~/.databrickscfg, or DATABRICKS_CONFIG_FILE)",
  );
  examples(group, [
    "dbxr config init --profile dev --host https://dbc-123.cloud.databricks.com --token - < token.txt",
    "dbxr config profiles",
  ]);

  group.addCommand(examples(
    new Command("init")
      .description(
        "Add a profile (--profile, default DEFAULT) for --host to the config file, keeping its other profiles " +
          "and comments; the file is written with mode 0600. Secrets come from stdin (`-`) or the " +
          "environment, never from the command line. An existing profile is replaced only with --force.",
      )
      .option(
        "--token <source>",
        "a personal access token: - reads it from stdin (default: DATABRICKS_TOKEN)",
      )
      .option(
        "--client-id <id>",
        "OAuth M2M: the service principal's client id (default: DATABRICKS_CLIENT_ID)",
      )
      .option(
        "--client-secret <source>",
        "OAuth M2M: - reads the secret from stdin (default: DATABRICKS_CLIENT_SECRET)",
      )
      .option("--cluster-id <id>", "the profile's default cluster (for dbxr create and job run)")
      .option("--force", "replace the keys of an existing profile of that name")
      .action(async (o, c) => {
        const g = globals(c);
        const r = await initProfile(ctx, {
          profile: g.profile,
          host: g.host,
          token: o.token,
          clientId: o.clientId,
          clientSecret: o.clientSecret,
          clusterId: o.clusterId,
          force: Boolean(o.force),
          os,
        });
        ctx.out.result(r, { text: initText });
      }),
    [
      "dbxr config init --profile dev --host https://dbc-123.cloud.databricks.com --token - < token.txt",
      "DATABRICKS_TOKEN=dapi... dbxr config init --profile dev --host https://dbc-123.cloud.databricks.com",
      "printf '%s' \"$SECRET\" | dbxr config init --profile ci --host https://dbc-123.cloud.databricks.com " +
      "--client-id 6f1c... --client-secret - --cluster-id 0123-456789-abcdefgh",
    ],
  ));

  group.addCommand(examples(
    new Command("profiles")
      .description(
        "List the config file's profiles with their host, auth type and cluster; the default one is marked. " +
          "Never shows a secret.",
      )
      .action(async () => ctx.out.result(await listProfiles(ctx, os), { text: profilesText })),
    ["dbxr config profiles", "dbxr config profiles --json"],
  ));
  return group;
}
