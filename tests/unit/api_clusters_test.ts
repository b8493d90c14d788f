import * as clusters from "../../src/api/clusters.ts";
import { ApiClient } from "../../src/api/http.ts";
import * as scim from "../../src/api/scim.ts";
import type { DbxrError } from "../../src/errors.ts";
import { assertEquals, assertRejects } from "../helpers/assert.ts";
import { fakeCtx, jsonResponse, scriptedFetch } from "../helpers/fake_ctx.ts";

const HOST = "http://127.0.0.1:8123";

function setup(steps: Parameters<typeof scriptedFetch>[0]) {
  const fetch = scriptedFetch(steps);
  const f = fakeCtx({ fetch });
  const client = new ApiClient(f.ctx, {
    host: HOST,
    credentials: { authType: "pat", header: () => Promise.resolve("Bearer t"), invalidate() {} },
    userAgent: "dbxr/test",
  });
  return { ...f, client, fetch };
}

const path = (url: string) => url.slice(HOST.length);

Deno.test("api clusters: list follows next_page_token to the end", async () => {
  const { client, requests } = setup([
    jsonResponse({ clusters: [{ cluster_id: "a" }], next_page_token: "p2" }),
    jsonResponse({ clusters: [{ cluster_id: "b" }], next_page_token: "p3", prev_page_token: "p1" }),
    jsonResponse({ clusters: [{ cluster_id: "c" }], next_page_token: "" }),
  ]);
  const all = await clusters.list(client, { states: ["RUNNING", "PENDING"], pageSize: 1 });
  assertEquals(all.map((c) => c.cluster_id), ["a", "b", "c"]);
  assertEquals(requests.map((r) => path(r.url)), [
    "/api/2.1/clusters/list?filter_by.cluster_states=RUNNING&filter_by.cluster_states=PENDING&page_size=1",
    "/api/2.1/clusters/list?filter_by.cluster_states=RUNNING&filter_by.cluster_states=PENDING&page_size=1&page_token=p2",
    "/api/2.1/clusters/list?filter_by.cluster_states=RUNNING&filter_by.cluster_states=PENDING&page_size=1&page_token=p3",
  ]);
});

Deno.test("api clusters: an empty workspace and a repeated page token both end the listing", async () => {
  assertEquals(await clusters.list(setup([jsonResponse({})]).client), []);
  const loop = setup([
    jsonResponse({ clusters: [{ cluster_id: "a" }], next_page_token: "same" }),
    jsonResponse({ clusters: [{ cluster_id: "b" }], next_page_token: "same" }),
  ]);
  assertEquals((await clusters.list(loop.client)).map((c) => c.cluster_id), ["a", "b"]);
});

Deno.test("api clusters: getOrUndefined is undefined for the 400 'does not exist' answer", async () => {
  const { client } = setup([
    jsonResponse({ error_code: "INVALID_PARAMETER_VALUE", message: "Cluster 0101-x does not exist" }, 400),
    jsonResponse({ cluster_id: "0101-y", state: "RUNNING" }),
    jsonResponse({ error_code: "PERMISSION_DENIED", message: "no" }, 403),
  ]);
  assertEquals(await clusters.getOrUndefined(client, "0101-x"), undefined);
  assertEquals((await clusters.getOrUndefined(client, "0101-y"))?.state, "RUNNING");
  const e = await assertRejects(() => clusters.getOrUndefined(client, "0101-z"));
  assertEquals((e as DbxrError).code, "PermissionDenied");
});

Deno.test("api clusters: start, restart, delete, spark versions, node types", async () => {
  const { client, requests } = setup([
    jsonResponse({}),
    jsonResponse({}),
    jsonResponse({}),
    jsonResponse({ versions: [{ key: "16.4.x-scala2.12", name: "16.4 LTS" }] }),
    jsonResponse({ node_types: [{ node_type_id: "i3.xlarge", memory_mb: 31232, num_cores: 4 }] }),
  ]);
  await clusters.start(client, "c1");
  await clusters.restart(client, "c1");
  await clusters.delete(client, "c1");
  assertEquals(await clusters.sparkVersions(client), [{ key: "16.4.x-scala2.12", name: "16.4 LTS" }]);
  assertEquals((await clusters.listNodeTypes(client))[0].node_type_id, "i3.xlarge");
  assertEquals(requests.map((r) => `${r.method} ${path(r.url)} ${r.body}`), [
    'POST /api/2.1/clusters/start {"cluster_id":"c1"}',
    'POST /api/2.1/clusters/restart {"cluster_id":"c1"}',
    'POST /api/2.1/clusters/delete {"cluster_id":"c1"}',
    "GET /api/2.1/clusters/spark-versions ",
    "GET /api/2.1/clusters/list-node-types ",
  ]);
});

Deno.test("api scim: me and whoami with the workspace id header", async () => {
  const user = { id: "1", userName: "me@example.com", active: true };
  const { client, requests } = setup([
    jsonResponse(user, 200, { "x-databricks-org-id": "6051921418418893" }),
    jsonResponse(user),
  ]);
  assertEquals(await scim.whoami(client), { user, workspaceId: "6051921418418893" });
  assertEquals(await scim.me(client), user);
  assertEquals(path(requests[0].url), "/api/2.0/preview/scim/v2/Me");
});
