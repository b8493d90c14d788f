// What create/exec/await/cancel/destroy/status load stays free of Node built-ins: each `node:` module
// costs Deno milliseconds of start-up (node:path ~7 ms, with node:async_hooks ~11 ms over an empty script,
// in a ~600 ms `dbxr exec`: issue 9 §3). npm packages are refused too: they run in Node mode and load
// built-ins of their own. The module graph is Deno's own (`deno info --json`), static and dynamic imports
// alike; type-only imports are left out, as they load nothing.

import { assertEquals } from "../helpers/assert.ts";

const REPL_ENTRIES = ["src/repl/env.ts", "src/repl/exec.ts", "src/repl/lifecycle.ts"];
const ROOT = new URL("../../", import.meta.url);

interface Dependency {
  specifier: string;
  code?: { specifier?: string };
  isDynamic?: boolean;
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

/**
 * main.ts's static imports: what every run loads before it knows its command. Its dynamic imports are
 * commander's tree (src/cli/tree.ts, root.ts), for the command lines that src/cli/fast.ts declines.
 */
async function mainStaticImports(): Promise<string[]> {
  const main = (await graph("main.ts")).find((m) => m.specifier === new URL("main.ts", ROOT).href)!;
  return (main.dependencies ?? []).filter((d) => !d.isDynamic && d.code?.specifier)
    .map((d) =>
      d.code!.specifier!.startsWith(ROOT.href)
        ? d.code!.specifier!.slice(ROOT.href.length)
        : d.code!.specifier!
    );
}

Deno.test("the start path of the seed's commands (main.ts's static imports; env, exec, lifecycle) imports no node: built-in and no npm package", async () => {
  const found: string[] = [];
  let local = 0;
  const fromMain = await mainStaticImports();
  for (const s of fromMain) if (isNodeOrNpm(s)) found.push(`main.ts imports ${s}`);
  const ENTRIES = [...REPL_ENTRIES, ...fromMain.filter((s) => !isNodeOrNpm(s))];
  if (!ENTRIES.includes("src/cli/fast.ts")) {
    throw new Error(`main.ts no longer imports src/cli/fast.ts: ${fromMain}`);
  }
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
