import { writeFileKeepingOthers } from "../../src/session/atomic.ts";
import { assertEquals } from "../helpers/assert.ts";

Deno.test("writeFileKeepingOthers: never replaces a different file; the same content is reused", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/job_outputs/7`, { recursive: true });
    assertEquals(
      await writeFileKeepingOthers(root, "job_outputs/7/main.log", "first"),
      "job_outputs/7/main.log",
    );
    assertEquals(
      await writeFileKeepingOthers(root, "job_outputs/7/main.log", "first"),
      "job_outputs/7/main.log",
    );
    assertEquals(
      await writeFileKeepingOthers(root, "job_outputs/7/main.log", "second"),
      "job_outputs/7/main.1.log",
    );
    assertEquals(
      await writeFileKeepingOthers(root, "job_outputs/7/main.log", "third"),
      "job_outputs/7/main.2.log",
    );
    assertEquals(
      await writeFileKeepingOthers(root, "job_outputs/7/main.log", "second"),
      "job_outputs/7/main.1.log",
    );
    assertEquals(await Deno.readTextFile(`${root}/job_outputs/7/main.log`), "first");
    assertEquals(await Deno.readTextFile(`${root}/job_outputs/7/main.2.log`), "third");
    assertEquals(await writeFileKeepingOthers(root, "job_outputs/7/NOEXT", "a"), "job_outputs/7/NOEXT");
    assertEquals(await writeFileKeepingOthers(root, "job_outputs/7/NOEXT", "b"), "job_outputs/7/NOEXT.1");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("writeFileAtomic: large text is written piece by piece as UTF-8, pairs never split", async () => {
  const { writeFileAtomic } = await import("../../src/session/atomic.ts");
  const root = await Deno.makeTempDir();
  try {
    // Surrogate pairs and 3-byte characters across every piece boundary (pieces of 64 Ki code units).
    const text = "ab" + "a😀€".repeat(300_000) + "x".repeat(65_535) + "😀end";
    const n = await writeFileAtomic(`${root}/big.txt`, text);
    const bytes = new TextEncoder().encode(text);
    assertEquals(n, bytes.length);
    assertEquals(await Deno.readTextFile(`${root}/big.txt`), text);
    assertEquals(await writeFileAtomic(`${root}/small.txt`, "é"), 2);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
