import { assertEquals } from "../helpers/assert.ts";
import { assetPairs } from "../../scripts/gen_assets.ts";

Deno.test("generated Python asset modules are up to date with their .py sources", async () => {
  for (const p of await assetPairs()) {
    let current = "";
    try {
      current = await Deno.readTextFile(p.ts);
    } catch { /* missing counts as stale */ }
    assertEquals(current, p.expected, `${p.ts} is stale: run deno task gen:assets`);
  }
});
