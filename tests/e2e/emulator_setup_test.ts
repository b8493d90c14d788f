// What a new user sees when the emulator's own set-up is wrong (a python3 without IPython): the reason,
// carried from the emulator to dbxr's answer, not just "failed to start".

import { assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { served } from "../helpers/served.ts";

Deno.test("create with an emulator whose python3 has no IPython names the reason", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dbxr-fake-python-" });
  const fake = `${dir}/python3`;
  await Deno.writeTextFile(
    fake,
    "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'IPython'\" >&2\nexit 1\n",
  );
  await Deno.chmod(fake, 0o755);
  const before = Deno.env.get("DBXR_EMULATOR_PYTHON");
  Deno.env.set("DBXR_EMULATOR_PYTHON", fake); // read by the in-process emulator when it starts a context
  try {
    await using s = await served();
    const project = await Deno.makeTempDir({ dir: s.home, prefix: "proj-" });
    const cluster = (await s.dbxr(["find-cluster", "--name", "analytics"])).json().cluster_id as string;
    const r = await s.dbxr([
      "create",
      "--cluster-id",
      cluster,
      "--session-name",
      "x",
      "--project-dir",
      project,
    ]);
    assertEquals(r.code, 1, r.stdout);
    assertEquals(r.json().error, "ApiError");
    assertStringIncludes(r.json().message as string, "No module named 'IPython'");
  } finally {
    if (before === undefined) Deno.env.delete("DBXR_EMULATOR_PYTHON");
    else Deno.env.set("DBXR_EMULATOR_PYTHON", before);
    await Deno.remove(dir, { recursive: true });
  }
});
