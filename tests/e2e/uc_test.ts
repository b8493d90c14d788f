// The uc commands end to end: the CLI as a subprocess against the emulator's Unity Catalog. ensure-schema is
// the seed's "verify catalog and schema exist" step, with its two failures made explicit.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { served } from "../helpers/served.ts";

Deno.test("uc catalogs: every page, until no token", async () => {
  await using s = await served();
  await s.control("POST", "unity/page-size", { n: 1 });
  const r = await s.dbxr(["uc", "catalogs"]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  const rows = r.json<{ name: string; catalog_type: string }[]>();
  assertEquals(rows.map((c) => c.name), ["hive_metastore", "main", "samples", "system"]);
  assertEquals(Object.keys(rows[0]).sort(), ["catalog_type", "comment", "name", "owner"]);
  assertEquals((await s.counts())["GET /api/2.1/unity-catalog/catalogs"], 4);
  const text = await s.dbxr(["uc", "catalogs", "--text"]);
  assertMatch(text.stdout, /^NAME\s+TYPE\s+OWNER\s+COMMENT\n/);
});

Deno.test("uc schemas: a catalog's schemas; a missing catalog is NotFound (exit 4); a dotted name is a usage error", async () => {
  await using s = await served();
  const r = await s.dbxr(["uc", "schemas", "samples"]);
  assertEquals(r.code, 0, r.stdout);
  assertEquals(r.json<{ full_name: string }[]>().map((x) => x.full_name), [
    "samples.information_schema",
    "samples.nyctaxi",
    "samples.tpch",
  ]);
  const missing = await s.dbxr(["uc", "schemas", "nope"]);
  assertEquals(missing.code, 4);
  assertEquals(missing.json().message, "Catalog 'nope' does not exist.");
  assertEquals(missing.json().hint, "dbxr uc catalogs");
  const dotted = await s.dbxr(["uc", "schemas", "main.default"]);
  assertEquals([dotted.code, dotted.json().error], [2, "InvalidArgument"]);
});

Deno.test("uc ensure-schema: creates, then reports it exists", async () => {
  await using s = await served();
  const first = await s.dbxr(["uc", "ensure-schema", "main.agents", "--comment", "agent models"]);
  assertEquals(first.code, 0, first.stdout);
  assertEquals(first.json(), { full_name: "main.agents", created: true });
  const second = await s.dbxr(["uc", "ensure-schema", "MAIN.Agents"]);
  assertEquals(second.code, 0, second.stdout);
  assertEquals(second.json(), { full_name: "main.agents", created: false });
  const existing = await s.dbxr(["uc", "ensure-schema", "samples.nyctaxi"]);
  assertEquals(existing.json(), { full_name: "samples.nyctaxi", created: false });
  const listed = await s.dbxr(["uc", "schemas", "main"]);
  const agents = listed.json<{ full_name: string; comment: string; owner: string }[]>()
    .find((x) => x.full_name === "main.agents");
  assertEquals([agents?.comment, agents?.owner], ["agent models", "dbxr-dev@example.com"]);
  const text = await s.dbxr(["uc", "ensure-schema", "main.agents", "--text"]);
  assertEquals(text.stdout, "main.agents already exists\n");
});

Deno.test("uc ensure-schema: a missing catalog is NotFound (exit 4) pointing at uc catalogs", async () => {
  await using s = await served();
  const r = await s.dbxr(["uc", "ensure-schema", "nope.agents"]);
  assertEquals(r.code, 4, r.stdout);
  const e = r.json();
  assertEquals([e.status, e.error], ["NotFound", "NotFound"]);
  assertStringIncludes(e.message as string, "Catalog 'nope' does not exist");
  assertEquals(e.hint, "dbxr uc catalogs");
});

Deno.test("uc ensure-schema: a read-only catalog is PermissionDenied (exit 3) naming the privilege; a grant fixes it", async () => {
  await using s = await served();
  const r = await s.dbxr(["uc", "ensure-schema", "samples.mine"]);
  assertEquals(r.code, 3, r.stdout);
  const e = r.json();
  assertEquals(e.error, "PermissionDenied");
  assertStringIncludes(e.message as string, "CREATE SCHEMA");
  assertStringIncludes(e.message as string, "User does not have CREATE SCHEMA on Catalog 'samples'");
  assertEquals(e.hint, "dbxr uc catalogs");
  const d = e.details as Record<string, unknown>;
  assertEquals([d.privilege, d.catalog, d.error_code], ["CREATE SCHEMA", "samples", "PERMISSION_DENIED"]);
  assert(!JSON.stringify(e).includes(s.emulator.token), "no token in the error");

  await s.control("POST", "unity/catalogs/samples/grant", { privilege: "CREATE_SCHEMA" });
  const ok = await s.dbxr(["uc", "ensure-schema", "samples.mine"]);
  assertEquals([ok.code, ok.json().created], [0, true]);
});

Deno.test("uc ensure-schema: a bad name is InvalidArgument (exit 2) before any request", async () => {
  await using s = await served();
  for (const name of ["main", "main.a.b", "main.has space", ".x", "main."]) {
    const r = await s.dbxr(["uc", "ensure-schema", name]);
    assertEquals(r.code, 2, `${name}: ${r.stdout}`);
    assertEquals(r.json().error, "InvalidArgument");
  }
  assertEquals(Object.keys(await s.counts()).filter((k) => k.includes("unity-catalog")), []);
});
