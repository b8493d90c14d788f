import { enableTimings, mark, timingLines } from "../../src/trace.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

Deno.test("timings: nothing is recorded until enabled, then one [timing] line per mark after the origin", () => {
  mark("before-enabling");
  enableTimings();
  mark("phase:one");
  mark("phase:two");
  const lines = timingLines().trimEnd().split("\n");
  assert(/^\[timing\] origin \d+\.\d$/.test(lines[0]), lines[0]);
  const names = lines.slice(1).map((l) => l.split(" ").slice(2).join(" "));
  assertEquals(names.includes("before-enabling"), false);
  assertEquals(names.slice(-2), ["phase:one", "phase:two"]);
  assertEquals(names[0], "modules:evaluating");
});
