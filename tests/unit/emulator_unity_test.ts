// Unity Catalog through emulator.handle: seeded catalogs and schemas, paging, case-insensitive names, and
// the errors a real metastore answers (missing, bad name, already exists, PERMISSION_DENIED).

import { assert, assertEquals } from "../helpers/assert.ts";
import { type TestEmulator, testEmulator } from "../helpers/emulator.ts";
import { served } from "../helpers/served.ts";

const UC = "/api/2.1/unity-catalog";

async function allPages(
  te: TestEmulator,
  path: string,
  key: string,
  maxResults: number,
): Promise<string[][]> {
  const pages: string[][] = [];
  let token: string | undefined;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const q = `${sep}max_results=${maxResults}${token ? `&page_token=${encodeURIComponent(token)}` : ""}`;
    const r = await te.get(`${path}${q}`);
    assertEquals(r.status, 200, r.text);
    pages.push(r.body[key].map((x: { name: string }) => x.name));
    token = r.body.next_page_token;
  } while (token);
  return pages;
}

Deno.test("uc: catalogs list (all at once, or paged until no token) and get with CatalogInfo fields", async () => {
  await using te = testEmulator();
  const all = await te.get(`${UC}/catalogs`);
  assertEquals(all.body.catalogs.map((c: { name: string }) => c.name), [
    "hive_metastore",
    "main",
    "samples",
    "system",
  ]);
  assertEquals("next_page_token" in all.body, false);
  assertEquals(await allPages(te, `${UC}/catalogs`, "catalogs", 3), [["hive_metastore", "main", "samples"], [
    "system",
  ]]);
  assertEquals(await allPages(te, `${UC}/catalogs`, "catalogs", 0), [[
    "hive_metastore",
    "main",
    "samples",
    "system",
  ]]);
  te.emu.control.setUnityPageSize(1);
  assertEquals((await allPages(te, `${UC}/catalogs`, "catalogs", 0)).length, 4);

  const main = await te.get(`${UC}/catalogs/MAIN`);
  assertEquals(main.status, 200);
  for (
    const k of ["name", "full_name", "catalog_type", "owner", "metastore_id", "created_at", "created_by"]
  ) {
    assert(k in main.body, k);
  }
  assertEquals([main.body.name, main.body.catalog_type], ["main", "MANAGED_CATALOG"]);
  const missing = await te.get(`${UC}/catalogs/nope`);
  assertEquals([missing.status, missing.body], [404, {
    error_code: "RESOURCE_DOES_NOT_EXIST",
    message: "Catalog 'nope' does not exist.",
  }]);
  const badToken = await te.get(`${UC}/catalogs?page_token=zzz`);
  assertEquals([badToken.status, badToken.body.error_code], [400, "INVALID_PARAMETER_VALUE"]);
  const badMax = await te.get(`${UC}/catalogs?max_results=-1`);
  assertEquals(badMax.status, 400);
});

Deno.test("uc: schemas per catalog, get by full name (case-insensitive), missing catalog vs missing schema", async () => {
  await using te = testEmulator();
  const list = await te.get(`${UC}/schemas?catalog_name=samples`);
  assertEquals(list.body.schemas.map((s: { full_name: string }) => s.full_name), [
    "samples.information_schema",
    "samples.nyctaxi",
    "samples.tpch",
  ]);
  assertEquals(await allPages(te, `${UC}/schemas?catalog_name=samples`, "schemas", 2), [
    ["information_schema", "nyctaxi"],
    ["tpch"],
  ]);
  const s = await te.get(`${UC}/schemas/Main.Default`);
  assertEquals(s.status, 200);
  assertEquals([s.body.full_name, s.body.catalog_name, s.body.name], ["main.default", "main", "default"]);
  assert(typeof s.body.schema_id === "string" && typeof s.body.metastore_id === "string");

  const noSchema = await te.get(`${UC}/schemas/main.nope`);
  assertEquals([noSchema.status, noSchema.body], [404, {
    error_code: "RESOURCE_DOES_NOT_EXIST",
    message: "Schema 'main.nope' does not exist.",
  }]);
  const noCatalog = await te.get(`${UC}/schemas/nope.default`);
  assertEquals([noCatalog.status, noCatalog.body.message], [404, "Catalog 'nope' does not exist."]);
  const listMissing = await te.get(`${UC}/schemas?catalog_name=nope`);
  assertEquals(listMissing.status, 404);
  assertEquals((await te.get(`${UC}/schemas`)).status, 400);
});

Deno.test("uc: create schema; 409 when it exists, 400 for bad names, 404 for a missing catalog", async () => {
  await using te = testEmulator();
  const r = await te.post(`${UC}/schemas`, {
    catalog_name: "main",
    name: "Agents",
    comment: "for the agent",
  });
  assertEquals(r.status, 200, r.text);
  assertEquals([r.body.full_name, r.body.comment, r.body.owner], [
    "main.agents",
    "for the agent",
    "dbxr-dev@example.com",
  ]);
  assertEquals((await te.get(`${UC}/schemas/main.agents`)).body.schema_id, r.body.schema_id);

  const again = await te.post(`${UC}/schemas`, { catalog_name: "main", name: "agents" });
  assertEquals([again.status, again.body], [409, {
    error_code: "RESOURCE_ALREADY_EXISTS",
    message: "Schema 'main.agents' already exists.",
  }]);
  for (const name of ["", "has space", "a.b", "a/b", "tab\there"]) {
    const bad = await te.post(`${UC}/schemas`, { catalog_name: "main", name });
    assertEquals([bad.status, bad.body.error_code], [400, "INVALID_PARAMETER_VALUE"], name);
    assert(bad.body.message.includes("is not a valid name"), bad.body.message);
  }
  const noCatalog = await te.post(`${UC}/schemas`, { catalog_name: "nope", name: "x" });
  assertEquals([noCatalog.status, noCatalog.body.message], [404, "Catalog 'nope' does not exist."]);
});

Deno.test("uc: read-only catalogs refuse CREATE SCHEMA (403) until the control API grants it", async () => {
  await using te = testEmulator();
  const denied = await te.post(`${UC}/schemas`, { catalog_name: "samples", name: "mine" });
  assertEquals([denied.status, denied.body], [403, {
    error_code: "PERMISSION_DENIED",
    message: "User does not have CREATE SCHEMA on Catalog 'samples'.",
  }]);
  te.emu.control.grantCreateSchema("samples");
  assertEquals((await te.post(`${UC}/schemas`, { catalog_name: "samples", name: "mine" })).status, 200);
  te.emu.control.revokeCreateSchema("main");
  assertEquals((await te.post(`${UC}/schemas`, { catalog_name: "main", name: "x" })).status, 403);
  te.emu.control.reset();
  assertEquals((await te.get(`${UC}/schemas/samples.mine`)).status, 404);
  assertEquals((await te.post(`${UC}/schemas`, { catalog_name: "main", name: "x" })).status, 200);
});

Deno.test("uc: delete a schema of one's own; others' are 403; missing is 404", async () => {
  await using te = testEmulator();
  await te.post(`${UC}/schemas`, { catalog_name: "main", name: "tmp" });
  assertEquals((await te.call("DELETE", `${UC}/schemas/main.tmp`)).status, 200);
  assertEquals((await te.get(`${UC}/schemas/main.tmp`)).status, 404);
  assertEquals((await te.call("DELETE", `${UC}/schemas/main.tmp`)).status, 404);
  const notMine = await te.call("DELETE", `${UC}/schemas/samples.nyctaxi`);
  assertEquals([notMine.status, notMine.body.error_code], [403, "PERMISSION_DENIED"]);
});

Deno.test("uc control over HTTP: grant, revoke, page size, snapshot", async () => {
  await using s = await served();
  const granted = await s.control("POST", "unity/catalogs/system/grant", { privilege: "CREATE_SCHEMA" }) as {
    catalogs: { name: string; create_schema: boolean }[];
  };
  assertEquals(granted.catalogs.find((c) => c.name === "system")?.create_schema, true);
  const revoked = await s.control("POST", "unity/catalogs/system/revoke", {}) as typeof granted;
  assertEquals(revoked.catalogs.find((c) => c.name === "system")?.create_schema, false);
  assertEquals(await s.control("POST", "unity/catalogs/nope/grant", {}), { error: "no catalog nope" });
  assertEquals(await s.control("POST", "unity/page-size", { n: 2 }), { n: 2 });
  const snap = await s.control("GET", "unity") as { page_size: number };
  assertEquals(snap.page_size, 2);
});
