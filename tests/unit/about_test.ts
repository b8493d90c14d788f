import { versionText } from "../../src/about.ts";
import { assertEquals } from "../helpers/assert.ts";

Deno.test("versionText: version, Deno version and target", () => {
  assertEquals(
    versionText("1.2.3", "2.9.6", "aarch64-apple-darwin"),
    "dbxr 1.2.3 (deno 2.9.6, aarch64-apple-darwin)",
  );
});
