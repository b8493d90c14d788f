// What create/exec/await/cancel/destroy/status load stays free of Node built-ins: each `node:` module
// costs Deno milliseconds of start-up (node:path ~7 ms, with node:async_hooks ~11 ms over an empty script,
// in a ~600 ms `dbxr exec`: issue 9 §3). npm packages are refused too: they run in Node mode and load
// built-ins of their own. The module graph is Deno's own (`deno info --json`), static and dynamic imports
// alike; type-only imports are left out, as they load nothing.

import { assertEquals } from "../helpers/assert.ts";

const ENTRIES = ["src/repl/env.ts", "src/repl/exec.ts", "src/repl/lifecycle.ts"];
const ROOT = new URL("../../", import.meta.url);

interface Dependency {
  specifier: string;
  code?: { specifier?: string };
}
interface Module {
  specifier: string;
  kind?: string;
  dependencies?: Dependency[];
}

async function graph(entry: string): Promise<Module[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`deno info ${entry}: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout)).modules;
}

const isNodeOrNpm = (s: string) => /^(node|npm):/.test(s);

Deno.test("the REPL's start path (env, exec, lifecycle) imports no node: built-in and no npm package", async () => {
  const found: string[] = [];
  let local = 0;
  const graphs = await Promise.all(ENTRIES.map(graph));
  for (const [i, entry] of ENTRIES.entries()) {
    for (const m of graphs[i]) {
      if (isNodeOrNpm(m.specifier) || m.kind === "node" || m.kind === "npm") {
        found.push(`${entry} reaches ${m.specifier}`);
      }
      if (m.specifier.startsWith("file:")) local++;
      for (const d of m.dependencies ?? []) {
        const code = d.code?.specifier;
        if (code !== undefined && isNodeOrNpm(code)) {
          found.push(`${m.specifier.slice(ROOT.href.length)} imports ${code} (from ${entry})`);
        }
      }
    }
  }
  assertEquals([...new Set(found)], []);
  // The graphs were really walked (a broken `deno info` must not pass as "nothing found").
  if (local < 3 * 20) throw new Error(`only ${local} local modules in the three graphs`);
});
