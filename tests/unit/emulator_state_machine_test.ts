import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import type { ClusterRunningEvent, ClusterStoppedEvent } from "../../src/emulator/cluster_model.ts";
import { ControlError } from "../../src/emulator/control.ts";
import { testEmulator } from "../helpers/emulator.ts";

const state = async (te: ReturnType<typeof testEmulator>, id: string) => {
  const c = (await te.get(`/api/2.1/clusters/get?cluster_id=${id}`)).body;
  return [c.state, c.state_message];
};

Deno.test("start: PENDING for the nominal 20 s, with the message moving on halfway, then RUNNING", async () => {
  await using te = testEmulator();
  const id = await te.clusterId("dbxr-dev-terminated");
  await te.post("/api/2.1/clusters/start", { cluster_id: id });
  const finding = "Finding instances for new nodes, acquiring more instances if necessary";
  assertEquals(await state(te, id), ["PENDING", finding]);
  te.advance(9_999);
  assertEquals(await state(te, id), ["PENDING", finding]);
  te.advance(1);
  assertEquals(await state(te, id), ["PENDING", "Starting Spark"]);
  te.advance(9_999);
  assertEquals((await state(te, id))[0], "PENDING");
  te.advance(1);
  assertEquals(await state(te, id), ["RUNNING", ""]);
});

Deno.test("timeScale divides every delay", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const id = await te.clusterId("dbxr-dev-terminated");
  await te.post("/api/2.1/clusters/start", { cluster_id: id });
  te.advance(1_999);
  assertEquals((await state(te, id))[0], "PENDING");
  te.advance(1);
  assertEquals((await state(te, id))[0], "RUNNING");
  await te.post("/api/2.1/clusters/delete", { cluster_id: id });
  te.advance(499);
  assertEquals((await state(te, id))[0], "TERMINATING");
  te.advance(1);
  assertEquals((await state(te, id))[0], "TERMINATED");
});

Deno.test("delays are configurable per emulator", async () => {
  await using te = testEmulator({ delays: { pendingMs: 100, restartingMs: 50 } });
  const id = await te.clusterId("dbxr-dev-terminated");
  await te.post("/api/2.1/clusters/start", { cluster_id: id });
  te.advance(100);
  assertEquals((await state(te, id))[0], "RUNNING");
  await te.post("/api/2.1/clusters/restart", { cluster_id: id });
  te.advance(50);
  assertEquals((await state(te, id))[0], "RUNNING");
});

Deno.test("transitions are applied lazily at their own times, however late the next read comes", async () => {
  await using te = testEmulator();
  const id = await te.clusterId("analytics-shared-ml");
  await te.post("/api/2.1/clusters/delete", { cluster_id: id });
  const at = te.now();
  te.advance(3_600_000);
  const c = (await te.get(`/api/2.1/clusters/get?cluster_id=${id}`)).body;
  assertEquals(c.state, "TERMINATED");
  assertEquals(c.terminated_time, at + 5_000, "terminated when TERMINATING ended, not when read");
  assertEquals(c.last_state_loss_time, at);
});

Deno.test("events: clusterStopped when the driver goes, clusterRunning with a new generation when it comes", async () => {
  await using te = testEmulator();
  const stopped: ClusterStoppedEvent[] = [];
  const running: ClusterRunningEvent[] = [];
  te.emu.state.events.on("clusterStopped", (e) => stopped.push(e));
  te.emu.state.events.on("clusterRunning", (e) => running.push(e));
  const id = await te.clusterId("team-shared");
  const gen0 = te.emu.state.clusters.find(id)!.generation;

  await te.post("/api/2.1/clusters/resize", { cluster_id: id, num_workers: 3 });
  te.advance(10_000);
  await te.get(`/api/2.1/clusters/get?cluster_id=${id}`);
  assertEquals(stopped.length, 0, "a resize keeps the driver (and its contexts)");
  assertEquals(running.length, 0);

  await te.post("/api/2.1/clusters/restart", { cluster_id: id });
  assertEquals(stopped, [{ clusterId: id, from: "RUNNING", to: "RESTARTING", at: te.now() }]);
  const restartedAt = te.now() + 15_000;
  te.advance(20_000);
  await te.get(`/api/2.1/clusters/get?cluster_id=${id}`);
  assertEquals(running, [{ clusterId: id, at: restartedAt, generation: gen0 + 1 }]);
  assertEquals(te.emu.state.clusters.find(id)!.runningSince, restartedAt);

  await te.post("/api/2.1/clusters/delete", { cluster_id: id });
  assertEquals(stopped.length, 2);
  assertEquals(stopped[1].to, "TERMINATING");

  const other = await te.clusterId("analytics-shared-ml");
  await te.post("/api/2.1/clusters/permanent-delete", { cluster_id: other });
  assertEquals(stopped[2], { clusterId: other, from: "RUNNING", to: "TERMINATED", at: te.now() });
});

Deno.test("control: set a state now; transient states then follow their natural course", async () => {
  await using te = testEmulator();
  const id = await te.clusterId("analytics-shared-ml");
  const details = te.emu.control.setClusterState(id, { state: "PENDING" });
  assertEquals(details.state, "PENDING");
  te.advance(20_000);
  assertEquals((await state(te, id))[0], "RUNNING");
});

Deno.test("control: hold keeps a state; state_message and termination_reason override", async () => {
  await using te = testEmulator();
  const id = await te.clusterId("analytics-shared-ml");
  te.emu.control.setClusterState(id, { state: "PENDING", state_message: "Waiting for capacity", hold: true });
  te.advance(3_600_000);
  assertEquals(await state(te, id), ["PENDING", "Waiting for capacity"]);
  const reason = { code: "CLOUD_PROVIDER_LAUNCH_FAILURE", type: "CLOUD_FAILURE" as const };
  const d = te.emu.control.setClusterState(id, { state: "TERMINATED", termination_reason: reason });
  assertEquals(d.termination_reason, reason);
});

Deno.test("control: schedule the next state after N ms of emulator time (not scaled)", async () => {
  await using te = testEmulator({ timeScale: 100 });
  const stopped: ClusterStoppedEvent[] = [];
  te.emu.state.events.on("clusterStopped", (e) => stopped.push(e));
  const id = await te.clusterId("team-shared");
  te.emu.control.setClusterState(id, { state: "RUNNING", next_state: "TERMINATING", next_after_ms: 1_000 });
  te.advance(999);
  assertEquals((await state(te, id))[0], "RUNNING");
  te.advance(1);
  assertEquals((await state(te, id))[0], "TERMINATING");
  assertEquals(stopped.map((e) => e.to), ["TERMINATING"]);
  te.advance(50); // 5 s / 100
  assertEquals((await state(te, id))[0], "TERMINATED");
});

Deno.test("control: refuses an unknown cluster or state, and next_after_ms without next_state", () => {
  const te = testEmulator();
  const { control } = te.emu;
  throws(() => control.setClusterState("0101-010101-nothere1", { state: "RUNNING" }), ControlError);
  // deno-lint-ignore no-explicit-any
  throws(() => control.setClusterState("x", { state: "BOOTING" as any }), /state must be one of/);
  const id = te.emu.state.clusters.all()[0].id;
  throws(() => control.setClusterState(id, { state: "RUNNING", next_after_ms: 5 }), /needs next_state/);
  throws(
    () => control.setClusterState(id, { state: "RUNNING", hold: true, next_state: "PENDING" }),
    ControlError,
  );
  assert(te.emu.state.clusters.find(id));
});

Deno.test("control over HTTP: POST /__emulator/clusters/{id}/state, no token needed", async () => {
  await using te = testEmulator();
  const id = await te.clusterId("dbxr-dev-terminated");
  const r = await te.post(`/__emulator/clusters/${id}/state`, { state: "RUNNING" }, { token: null });
  assertEquals([r.status, r.body.state, r.body.cluster_id], [200, "RUNNING", id]);
  const bad = await te.post(`/__emulator/clusters/${id}/state`, { state: "nope" }, { token: null });
  assertEquals(bad.status, 400);
  assert(typeof bad.body.error === "string");
  const missing = await te.post("/__emulator/clusters/0101-010101-nothere1/state", { state: "RUNNING" });
  assertEquals(missing.status, 404);
});
