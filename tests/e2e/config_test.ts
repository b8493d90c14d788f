// config init and profiles as the release binary runs them: the file gets mode 0600, keeps what was there,
// and the profile it writes is the one every other command then resolves.

import { join } from "node:path";
import { assert, assertEquals } from "../helpers/assert.ts";
import { runCli } from "../helpers/cli.ts";

Deno.test("config init writes a 0600 profile that auth describe and config profiles then read", async () => {
  const home = await Deno.makeTempDir({ prefix: "dbxr-config-" });
  try {
    const cfg = join(home, ".databrickscfg");
    await Deno.writeTextFile(
      cfg,
      "# keep me\n[other]\nhost = https://o.cloud.databricks.com\ntoken = dapiO\n",
    );
    await Deno.chmod(cfg, 0o644);
    const env = { HOME: home };
    const r = await runCli(
      ["config", "init", "--profile", "dev", "--host", "https://d.cloud.databricks.com", "--token", "-"],
      { env, stdin: "dapiDEV\n" },
    );
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assert(!r.stdout.includes("dapiDEV"));
    if (Deno.build.os !== "windows") assertEquals((await Deno.stat(cfg)).mode! & 0o777, 0o600);
    const text = await Deno.readTextFile(cfg);
    assert(
      text.startsWith("# keep me\n[other]\nhost = https://o.cloud.databricks.com\ntoken = dapiO\n"),
      text,
    );

    const d = await runCli(["auth", "describe", "--profile", "dev", "--json"], { env });
    assertEquals(d.code, 0, d.stdout);
    const described = d.json<{ host: string; auth_type: string; config_file: string }>();
    assertEquals([described.host, described.auth_type, described.config_file], [
      "https://d.cloud.databricks.com",
      "pat",
      cfg,
    ]);

    const again = await runCli(
      ["config", "init", "--profile", "dev", "--host", "https://d.cloud.databricks.com", "--token", "-"],
      { env, stdin: "dapiOTHER\n" },
    );
    assertEquals(again.code, 2, again.stdout);
    assertEquals(again.json().error, "InvalidArgument");
    assert((await Deno.readTextFile(cfg)).includes("dapiDEV"));

    const p = await runCli(["config", "profiles", "--json"], { env });
    assertEquals(p.code, 0, p.stdout);
    assertEquals(
      p.json<{ profiles: Array<{ name: string; auth_type: string }> }>().profiles.map((
        x,
      ) => [x.name, x.auth_type]),
      [["other", "pat"], ["dev", "pat"]],
    );
    assert(!p.stdout.includes("dapi"));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
