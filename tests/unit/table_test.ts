// The one table renderer, the styles (colours only on a terminal, never with NO_COLOR), the run-state
// vocabulary, and the progress lines of a wait.

import { ansiStyle, plainStyle, runState, stateTone, table, visibleWidth } from "../../src/table.ts";
import { Output } from "../../src/output.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

Deno.test("table: a header, aligned columns two spaces apart, no trailing blanks", () => {
  const t = table(["ID", "STATE", "NAME"], [[1, "RUNNING", "a"], [12345, "TERMINATED SUCCESS", "long name"]]);
  assertEquals(t.split("\n"), [
    "ID     STATE               NAME",
    "1      RUNNING             a",
    "12345  TERMINATED SUCCESS  long name",
  ]);
  assertEquals(table(["A", "B"], []), "(none)");
  assertEquals(table(["A", "B"], [], { empty: "(no runs)" }), "(no runs)");
});

Deno.test("table: missing cells are '-', newlines never break a row, the last column is not padded", () => {
  const t = table(["A", "B", "C"], [[null, "x\ny", ""], ["aaa", undefined, "z"]]);
  assertEquals(t.split("\n"), ["A    B    C", "-    x y  -", "aaa  -    z"]);
});

Deno.test("table: colours do not move the columns", () => {
  const plain = table(["ID", "STATE", "X"], [[1, "RUNNING", "a"], [2, "ERROR", "b"]], { stateColumns: [1] });
  const coloured = table(["ID", "STATE", "X"], [[1, "RUNNING", "a"], [2, "ERROR", "b"]], {
    stateColumns: [1],
    style: ansiStyle,
  });
  assert(coloured.includes("\x1b[32mRUNNING\x1b[0m") && coloured.includes("\x1b[31mERROR\x1b[0m"), coloured);
  // deno-lint-ignore no-control-regex
  assertEquals(coloured.replace(/\x1b\[[0-9;]*m/g, ""), plain);
  assertEquals(visibleWidth("\x1b[1mID\x1b[0m"), 2);
});

Deno.test("state tones: the result state decides, messages after the state do not", () => {
  assertEquals(
    ["RUNNING", "TERMINATED SUCCESS", "TERMINATED FAILED", "PENDING", "TERMINATED", "Finished", "Error"].map(
      stateTone,
    ),
    ["good", "good", "bad", "busy", "neutral", "good", "bad"],
  );
  assertEquals(
    ansiStyle.state("RUNNING - Error while reading"),
    "\x1b[32mRUNNING - Error while reading\x1b[0m",
  );
  assertEquals(plainStyle.state("ERROR"), "ERROR");
});

Deno.test("run states read the same everywhere: life cycle, then result", () => {
  assertEquals(runState("TERMINATED", "SUCCESS"), "TERMINATED SUCCESS");
  assertEquals(runState("RUNNING", null), "RUNNING");
  assertEquals(runState(undefined, "FAILED"), "FAILED");
  assertEquals(runState(null, null), "");
});

function output(o: { stdoutIsTty?: boolean; stderrIsTty?: boolean; noColor?: string; env?: string }) {
  let out = "", err = "";
  const w = new Output({
    stdout: (t) => out += t,
    stderr: (t) => err += t,
    stdoutIsTty: o.stdoutIsTty ?? false,
    stderrIsTty: o.stderrIsTty ?? false,
    noColor: o.noColor,
    envFormat: o.env,
  });
  return { w, out: () => out, err: () => err };
}

Deno.test("colours: only on a terminal, and NO_COLOR (any non-empty value) turns them off", () => {
  const render = (data: string[], style: typeof plainStyle) => data.map((s) => style.state(s)).join(" ");
  const tty = output({ stdoutIsTty: true });
  tty.w.result(["RUNNING"], { text: render });
  assertEquals(tty.out(), "\x1b[32mRUNNING\x1b[0m\n");
  const noColor = output({ stdoutIsTty: true, noColor: "1" });
  noColor.w.result(["RUNNING"], { text: render });
  assertEquals(noColor.out(), "RUNNING\n");
  const piped = output({ env: "text" });
  piped.w.result(["RUNNING"], { text: render });
  assertEquals(piped.out(), "RUNNING\n");
  assertEquals(output({ stdoutIsTty: true, noColor: "" }).w.colors, true);
});

Deno.test("--text is honoured by the seed's commands; their default stays JSON", () => {
  const text = { alwaysJson: true, text: () => "as text" } as const;
  const tty = output({ stdoutIsTty: true });
  tty.w.result({ a: 1 }, text);
  assertEquals(JSON.parse(tty.out()), { a: 1 });
  const env = output({ stdoutIsTty: true, env: "text" });
  env.w.result({ a: 1 }, text);
  assertEquals(JSON.parse(env.out()), { a: 1 }, "DBXR_OUTPUT=text does not switch them");
  const asked = output({ stdoutIsTty: true, env: "json" });
  asked.w.flagFormat = "text";
  asked.w.result({ a: 1 }, text);
  assertEquals(asked.out(), "as text\n");
});

Deno.test("wait progress: silent for a second, a line per change, a last line with the final state", () => {
  const o = output({ stderrIsTty: true, noColor: "1" });
  const p = o.w.wait("cluster c1");
  p.step("PENDING", 200);
  assertEquals(o.err(), "", "nothing in the first second");
  p.step("PENDING", 1_200);
  p.step("PENDING", 2_400);
  p.step("RUNNING: starting", 3_000);
  p.end("RUNNING", 4_400);
  assertEquals(o.err().split("\n"), [
    "cluster c1: PENDING (1s)",
    "cluster c1: RUNNING: starting (3s)",
    "cluster c1: RUNNING (4s)",
    "",
  ]);

  const quick = output({ stderrIsTty: true });
  const q = quick.w.wait("003_x");
  q.step("Running", 300);
  q.end("Finished", 600);
  assertEquals(quick.err(), "", "a wait under a second prints nothing, not even its end");

  const piped = output({});
  const pp = piped.w.wait("003_x");
  pp.step("Running", 5_000);
  pp.end("Finished", 6_000);
  assertEquals(piped.err(), "", "progress is for terminals");

  const ci = output({});
  const c = ci.w.wait("run 7", { always: true });
  c.step("PENDING", 0);
  c.step("RUNNING", 1_500);
  c.end("TERMINATED SUCCESS", 9_000);
  assertEquals(
    ci.err(),
    "run 7: PENDING (0s)\nrun 7: RUNNING (2s)\nrun 7: TERMINATED SUCCESS (9s)\n",
    "job runs: CI logs show every state",
  );

  const coloured = output({ stderrIsTty: true });
  const k = coloured.w.wait("run 7");
  k.step("RUNNING", 1_500);
  k.step("RUNNING: resizing", 2_500);
  assertEquals(
    coloured.err(),
    "run 7: \x1b[32mRUNNING\x1b[0m (2s)\nrun 7: \x1b[32mRUNNING: resizing\x1b[0m (3s)\n",
  );
  const plain = output({ stderrIsTty: true, noColor: "1" });
  const l = plain.w.wait("run 7");
  l.step("RUNNING", 1_500);
  assertEquals(plain.err(), "run 7: RUNNING (2s)\n");
});
