// deno-lint-ignore-file no-console
// Memory benchmark (target in BENCHMARKS.md): peak RSS of `dbxr exec` for a command printing 1 MiB and 20
// MiB, next to `dbxr --version`, measured with GNU time (`/usr/bin/time -f %M`, Linux only). The emulator's
// cluster gets spark.databricks.driver.maxReplOutputLength = 21 MB, so the whole text comes back. Twice:
// with the emulator's answers as they are (Content-Length), and through a proxy that gzips them (no length
// known before the body is read, as behind a compressing gateway).
// Usage: deno run -A scripts/bench/memory.ts

import { serve } from "../../src/emulator/main.ts";
import { denoDir, permissionFlags, ROOT_DIR as ROOT } from "../flags.ts";

const server = serve({ port: 0, options: { seed: 1, timeScale: 100 } }, () => {});
const { host } = server;
const token = server.emulator.token;
// Forwards to the emulator and gzips every answer (fetch inflates it again, without a Content-Length).
const gzipProxy = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
  const url = new URL(req.url);
  const headers = new Headers(req.headers);
  headers.delete("host");
  const r = await fetch(`${host}${url.pathname}${url.search}`, {
    method: req.method,
    headers,
    body: req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer(),
  });
  const out = new Headers(r.headers);
  out.delete("content-length");
  out.set("content-encoding", "gzip");
  return new Response(r.body?.pipeThrough(new CompressionStream("gzip")) ?? null, {
    status: r.status,
    headers: out,
  });
});
const gzipHost = `http://127.0.0.1:${gzipProxy.addr.port}`;
const home = await Deno.makeTempDir();
const project = await Deno.makeTempDir();
const projectGzip = await Deno.makeTempDir(); // a session belongs to one host: the proxy gets its own
const env = {
  HOME: home,
  DATABRICKS_HOST: host,
  DATABRICKS_TOKEN: token,
  PATH: Deno.env.get("PATH") ?? "",
  DENO_DIR: denoDir(),
};

async function api(path: string, body?: unknown) {
  const r = await fetch(`${host}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return await r.json();
}

/** Runs dbxr under GNU time; returns the exit code and the peak RSS in MiB. */
async function measured(
  args: string[],
  via = host,
  dir = project,
): Promise<{ code: number; rssMiB: number; out: string }> {
  const r = await new Deno.Command("/usr/bin/time", {
    args: [
      "-f",
      "%M",
      Deno.execPath(),
      "run",
      "--quiet",
      ...permissionFlags(),
      `${ROOT}main.ts`,
      "--project-dir",
      dir,
      ...args,
    ],
    env: { ...env, DATABRICKS_HOST: via },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(r.stderr).trim().split("\n");
  return { code: r.code, rssMiB: Number(err.at(-1)) / 1024, out: new TextDecoder().decode(r.stdout) };
}

try {
  const { cluster_id } = await api("/api/2.1/clusters/create", {
    cluster_name: "bench-memory",
    spark_version: "16.4.x-scala2.12",
    node_type_id: "i3.xlarge",
    num_workers: 0,
    spark_conf: { "spark.databricks.driver.maxReplOutputLength": "21000000" },
  });
  for (let i = 0; i < 100; i++) {
    if ((await api(`/api/2.1/clusters/get?cluster_id=${cluster_id}`)).state === "RUNNING") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const [via, dir] of [[host, project], [gzipHost, projectGzip]]) {
    const created = await measured(["create", "--cluster-id", cluster_id, "--session-name", "mem"], via, dir);
    if (created.code !== 0) throw new Error(created.out);
  }
  const version = await measured(["--version"]);
  const rows: string[] = [`| \`dbxr --version\` | — | ${version.rssMiB.toFixed(0)} |`];
  const rss: Record<string, number> = {};
  for (const [answer, via, dir] of [["plain", host, project], ["gzip", gzipHost, projectGzip]]) {
    for (const mib of [1, 20]) {
      const r = await measured(
        [
          "exec",
          "--tag",
          `out${mib}`,
          "--command",
          `print('x' * ${mib} * 1024 * 1024)`,
        ],
        via,
        dir,
      );
      const j = JSON.parse(r.out);
      if (r.code !== 0) throw new Error(r.out);
      rss[`${answer}${mib}`] = r.rssMiB;
      rows.push(
        `| \`dbxr exec\` printing ${mib} MiB, ${
          answer === "plain" ? "answer with Content-Length" : "gzip'd answer"
        } | ${(j.stdout_bytes / 1048576).toFixed(1)} MiB | ${r.rssMiB.toFixed(0)} |`,
      );
    }
  }
  await measured(["destroy"]);
  await measured(["destroy"], gzipHost, projectGzip);
  console.log(`## Memory (${new Date().toISOString().replace(/\.\d+Z$/, "Z")})\n`);
  console.log(
    "Peak RSS of the dbxr process (GNU time `%M`), `deno run` with the release flags; load average " +
      `${Deno.readTextFileSync("/proc/loadavg").split(" ")[0]}.\n`,
  );
  console.log("| command | output written | peak RSS MiB |");
  console.log("|---|---|---|");
  for (const r of rows) console.log(r);
  const copies = (answer: string) => ((rss[`${answer}20`] - rss[`${answer}1`]) / 19).toFixed(1);
  console.log(
    `\nCopies of the output in memory at the peak: (RSS at 20 MiB − RSS at 1 MiB) / 19 MiB = ${
      copies("plain")
    }; with gzip'd answers ${copies("gzip")} (target: at most 2).`,
  );
} finally {
  await gzipProxy.shutdown();
  await server.shutdown();
  await Deno.remove(home, { recursive: true });
  await Deno.remove(project, { recursive: true });
  await Deno.remove(projectGzip, { recursive: true });
}
