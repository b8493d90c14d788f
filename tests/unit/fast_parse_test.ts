// The start path of the seed's commands and `cluster list` (src/cli/fast.ts) reads a command line exactly as commander
// does, or declines it: on the README's and the skill's forms and on a seeded random corpus of command lines
// built from every option, value shape and word that could trip it, whatever it accepts, commander parses
// to the same invocation and global flags, and it accepts the usual forms (so that it is used at all).

import { assembleProgram } from "../../src/cli/root.ts";
import { type FastInvocation, parseFast } from "../../src/cli/fast.ts";
import { clusterCommands, findClusterCommand } from "../../src/cli/cluster.ts";
import { CLUSTER_COMMANDS } from "../../src/cli/cluster_commands.ts";
import { flagNames, GLOBAL_OPTIONS, type GlobalFlags } from "../../src/cli/options.ts";
import { replCommands } from "../../src/cli/repl.ts";
import { REPL_COMMANDS } from "../../src/cli/repl_commands.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { fakeCtx } from "../helpers/fake_ctx.ts";
import { mulberry32 } from "../../src/emulator/random.ts";

type Parsed = { invocation: FastInvocation; globals: GlobalFlags } | { error: string };

const GLOBAL_ATTRS = GLOBAL_OPTIONS.map((o) => flagNames(o).attr);

async function commanderParse(argv: string[]): Promise<Parsed> {
  const { ctx } = fakeCtx();
  let parsed: Parsed | undefined;
  const record = (invocation: FastInvocation, g: GlobalFlags) => {
    const globals = Object.fromEntries(
      GLOBAL_ATTRS.filter((a) => (g as Record<string, unknown>)[a] !== undefined)
        .map((a) => [a, (g as Record<string, unknown>)[a]]),
    );
    parsed = { invocation, globals };
    return Promise.resolve();
  };
  const program = assembleProgram(ctx, [
    ...replCommands(ctx, record),
    findClusterCommand(ctx, record),
    clusterCommands(ctx, record),
  ]);
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    return { error: (e as Error).message };
  }
  return parsed ?? { error: "no action ran" };
}

async function check(argv: string[]): Promise<boolean> {
  const fast = parseFast(argv);
  if (!fast) return false;
  const theirs = await commanderParse(argv);
  assertEquals(fast, theirs, `fast path and commander differ on: ${JSON.stringify(argv)}`);
  return true;
}

const USUAL: string[][] = [
  [
    "create",
    "--cluster-id",
    "0123-456789-abcdefgh",
    "--session-name",
    "churn",
    "--project-dir",
    "examples/churn",
  ],
  ["create", "--session-name", "quick"],
  ["create", "--cluster-id=c1", "--session-name=x", "--language", "sql", "--force", "--json"],
  ["exec", "--command", "print(spark.version)", "--tag", "version"],
  ["exec", "--command", "df.write.saveAsTable('main.x.t')", "--tag", "save", "--no-replay"],
  ["exec", "--command", "@step3_train.py", "--tag", "train", "--timeout", "1800"],
  ["exec", "--command", "-", "--tag", "query"],
  ["exec", "--command", "x = 1\nprint(x)", "--tag", "t", "--replay-safe", "--preview", "0"],
  ["--project-dir", "p", "-p", "dev", "exec", "--tag", "a", "--command", "1", "--text"],
  ["exec", "--command", "--tag", "--tag", "t"],
  ["--host", "https://x.cloud.databricks.com", "--debug", "await"],
  ["await", "--timeout", "1200", "--project-dir", "examples/churn"],
  ["await", "--timeout=0.5", "--preview=20"],
  ["cancel"],
  ["cancel", "--run-id", "3a601163-d3c7-40f9-9c61-deb92c7a2c9d"],
  ["destroy"],
  ["destroy", "--project-dir", "examples/churn"],
  ["status"],
  ["status", "--json", "--profile", "dev"],
  ["find-cluster", "--name", "analytics"],
  ["find-cluster", "--name=ml", "--profile", "prod", "--text"],
  ["cluster", "list"],
  ["cluster", "list", "--state", "RUNNING", "--json"],
  ["--host", "https://x.cloud.databricks.com", "cluster", "--json", "list"],
];

Deno.test("the fast path takes the usual command lines of the seed's commands, read as commander reads them", async () => {
  for (const argv of USUAL) assert(await check(argv), `declined: ${JSON.stringify(argv)}`);
});

Deno.test("the fast path declines what commander must answer: help, version, unknown, bad or missing values", () => {
  for (
    const argv of [
      [],
      ["--help"],
      ["exec", "--help"],
      ["-h", "status"],
      ["--version"],
      ["exec", "--tag", "t"], // --command missing
      ["exec", "--command", "x"], // --tag missing
      ["exec", "--command"],
      ["exec", "--command", "x", "--tag", "t", "--timeout", "0"],
      ["exec", "--command", "x", "--tag", "t", "--timeout", "soon"],
      ["exec", "--command", "x", "--tag", "t", "--no-replay", "--replay-safe"],
      ["create", "--session-name", "s", "--language", "cobol"],
      ["status", "--json", "--text"],
      ["status", "extra"],
      ["status", "-"],
      ["status", "--"],
      ["-pdev", "status"],
      ["--force", "create", "--session-name", "s"],
      ["create", "--session-name", "s", "--force=yes"],
      ["stauts"],
      ["cluster"],
      ["cluster", "get", "0123"],
      ["cluster", "list", "extra"],
      ["list"],
      ["find-cluster"], // --name missing
      ["find-cluster", "--state", "RUNNING", "--name", "x"], // cluster list's option
      ["repl", "history"],
      ["exec", "exec", "--command", "x", "--tag", "t"],
    ]
  ) {
    assertEquals(parseFast(argv), undefined, JSON.stringify(argv));
  }
});

Deno.test("on a random corpus, whatever the fast path accepts commander reads the same way", async () => {
  const random = mulberry32(9); // deterministic: a failure names a reproducible command line
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const commands = [
    ...REPL_COMMANDS.map((c) => ({ path: [c.name], options: c.options })),
    ...CLUSTER_COMMANDS.map((c) => ({ path: [...c.path], options: c.options })),
  ];
  const words = [...commands.flatMap((c) => c.path), "get", "bogus", "help"];
  const flags = [...GLOBAL_OPTIONS, ...commands.flatMap((c) => c.options)].flatMap((o) => {
    const n = flagNames(o);
    return [n.long, ...(n.short ? [n.short] : []), ...(n.takesValue ? [`${n.long}=`] : [])];
  });
  const odd = ["-h", "--help", "-V", "--", "-", "--bogus", "-pX", "--no-force", "--replay", "--json=1"];
  const values = [
    "x",
    "",
    "-",
    "--tag",
    "-1",
    "0",
    "0.5",
    "600",
    "1e3",
    "abc",
    "python",
    "sql",
    "cobol",
    "@f.py",
    "a=b",
  ];
  let accepted = 0;
  const N = 3000;
  for (let i = 0; i < N; i++) {
    const argv: string[] = [];
    if (random() < 0.6) {
      // A near-valid line: a command, its options (required ones mostly present) and global flags in
      // random order, each value of a random shape, with an occasional odd word dropped in.
      const command = pick(commands);
      const opts = [...command.options, ...GLOBAL_OPTIONS].filter((
        o,
      ) => (o.required ? random() < 0.9 : random() < 0.4));
      const parts: string[][] = opts.map((o) => {
        const n = flagNames(o);
        const name = n.short && random() < 0.5 ? n.short : n.long;
        if (!n.takesValue) return [name];
        const value = o.choices && random() < 0.7 ? pick(o.choices) : pick(values);
        return !n.short || name === n.long
          ? (random() < 0.3 ? [`${name}=${value}`] : [name, value])
          : [name, value];
      });
      parts.sort(() => random() - 0.5);
      const at = Math.floor(random() * (parts.length + 1));
      // A two-word command sometimes has a global flag between its words (commander takes that too).
      const between = command.path.length > 1 && random() < 0.3
        ? [pick(["--json", "--debug", "--text"])]
        : [];
      parts.splice(at, 0, [command.path[0], ...between, ...command.path.slice(1)]);
      if (random() < 0.1) parts.splice(Math.floor(random() * parts.length), 0, [pick(odd)]);
      argv.push(...parts.flat());
    } else {
      const length = 1 + Math.floor(random() * 9);
      if (random() < 0.8) argv.push(pick(words));
      while (argv.length < length) {
        const r = random();
        const token = r < 0.55 ? pick(flags) : r < 0.85 ? pick(values) : r < 0.93 ? pick(words) : pick(odd);
        argv.push(token.endsWith("=") ? token + pick(values) : token);
      }
    }
    if (await check(argv)) accepted++;
  }
  // The corpus must exercise the accepting side, not only the declining one.
  assert(accepted > N / 5, `only ${accepted} of ${N} command lines were taken by the fast path`);
});
