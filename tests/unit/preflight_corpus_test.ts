// The guide corpus (fixtures/guide_corpus.ts) through `job check`'s rules: every phrasing of every pitfall
// is caught with the rule's severity, and every correct script stays silent (no error, no warning).

import { assert, assertEquals } from "../helpers/assert.ts";
import { parseClusterSpec } from "../../src/jobs/cluster_spec.ts";
import { type PreflightReport, runPreflight } from "../../src/jobs/preflight.ts";
import { CLEAN, type CorpusCase, PITFALLS } from "./fixtures/guide_corpus.ts";

function run(c: CorpusCase): PreflightReport {
  return runPreflight({
    files: [
      { path: "job.py", source: c.source },
      ...Object.entries(c.more ?? {}).map(([path, source]) => ({ path, source })),
    ],
    ...(c.spec ? { clusterSpec: parseClusterSpec("cluster.json", JSON.stringify(c.spec, null, 2)) } : {}),
    ...c.opts,
  });
}

for (const p of PITFALLS) {
  Deno.test(`corpus: ${p.rule} catches every phrasing (${p.guide})`, () => {
    assert(p.phrasings.length >= 1);
    for (const c of p.phrasings) {
      const hits = run(c).findings.filter((f) => f.rule === p.rule);
      assert(hits.length > 0, `${p.rule} missed "${c.name}"`);
      assertEquals(hits[0].severity, p.severity, `${p.rule} "${c.name}": ${hits[0].message}`);
    }
  });
}

for (const c of CLEAN) {
  Deno.test(`corpus: a correct script stays silent: ${c.name}`, () => {
    const loud = run(c).findings.filter((f) => f.severity !== "info");
    assertEquals(loud.map((f) => `${f.rule}:${f.line} ${f.message}`), []);
    assertEquals(run(c).status, "ok");
  });
}

Deno.test("corpus: the figures (every checkable pitfall caught, no false alarm)", () => {
  const phrasings = PITFALLS.flatMap((p) => p.phrasings.map((c) => ({ p, c })));
  const caught = phrasings.filter(({ p, c }) => run(c).findings.some((f) => f.rule === p.rule));
  const alarms = CLEAN.filter((c) => run(c).findings.some((f) => f.severity !== "info"));
  assertEquals([caught.length, alarms.length], [phrasings.length, 0]);
  // Several phrasings for the pitfalls issue 11 found slipping through.
  for (
    const rule of ["file-dunder", "uc-access-mode", "spark-version-cpu", "single-node-conf", "agent-node-try"]
  ) {
    assert(PITFALLS.find((p) => p.rule === rule)!.phrasings.length >= 3, rule);
  }
});
