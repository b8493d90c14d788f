// Server entry of the emulator (`deno task emulator`, the dbxr-emulator binary): Deno.serve on 127.0.0.1
// around createEmulator().handle. Its first stdout line is the JSON that clients need to connect; logs go
// to stderr. It runs until SIGINT or SIGTERM, then closes the emulator (and every child process).

import { parseArgs } from "node:util";
import { createEmulator, type Emulator, type EmulatorOptions } from "./emulator.ts";
import { DroppedConnection } from "./faults.ts";
import { shellQuote } from "../shell.ts";

export const USAGE = `dbxr-emulator: a local fake Databricks workspace for dbxr

Usage: dbxr-emulator [options]      (from source: deno task emulator [options])

Options:
  --port N           port on 127.0.0.1 (default 0: any free port)
  --latency-ms N     latency added to every API response, in ms (default 0)
  --time-scale X     run cluster state changes X times faster (default 1)
  --max-contexts N   execution contexts per cluster (default 145)
  --seed N           pins ids, the token and the client secret (default: random secrets)
  --env-file FILE    once listening, write FILE for sh to source: DATABRICKS_HOST and DATABRICKS_TOKEN
                     exported, other DATABRICKS_* auth variables unset; removed again on shutdown
  -h, --help         show this help

The first line on stdout is JSON: {"host", "token", "client_id", "client_secret"}.
Control API: http://127.0.0.1:PORT/__emulator/ (see src/emulator/README.md).

Examples:
  dbxr-emulator --port 8765 --time-scale 20 --seed 7
  dbxr-emulator --time-scale 20 --env-file emulator.env &
  until [ -f emulator.env ]; do sleep 0.2; done; . ./emulator.env
`;

export interface ServerArgs {
  port: number;
  options: EmulatorOptions;
  /** --env-file: where to write the sh exports once listening. */
  envFile?: string;
}

export type ParsedArgs = { help: true } | { help: false; args: ServerArgs };

function number(flag: string, raw: string | undefined, check: (n: number) => boolean, what: string) {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || !check(n)) {
    throw new TypeError(`--${flag} must be ${what}, got '${raw}'`);
  }
  return n;
}

/** Parses and validates the command line; throws TypeError with a usage message on bad input. */
export function parseServerArgs(argv: string[]): ParsedArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: "string" },
      "latency-ms": { type: "string" },
      "time-scale": { type: "string" },
      "max-contexts": { type: "string" },
      seed: { type: "string" },
      "env-file": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return { help: true };
  const int = (n: number) => Number.isInteger(n);
  const port = number(
    "port",
    values.port,
    (n) => int(n) && n >= 0 && n <= 65535,
    "an integer from 0 to 65535",
  );
  const envFile = values["env-file"];
  if (envFile !== undefined && envFile.trim() === "") throw new TypeError("--env-file needs a file name");
  return {
    help: false,
    args: {
      ...(envFile === undefined ? {} : { envFile }),
      port: port ?? 0,
      options: {
        latencyMs: number("latency-ms", values["latency-ms"], (n) => n >= 0, "a non-negative number"),
        timeScale: number("time-scale", values["time-scale"], (n) => n > 0, "a positive number"),
        maxContexts: number(
          "max-contexts",
          values["max-contexts"],
          (n) => int(n) && n > 0,
          "a positive integer",
        ),
        seed: number(
          "seed",
          values.seed,
          (n) => int(n) && n >= 0 && n <= 0xffffffff,
          "an integer from 0 to 4294967295",
        ),
      },
    },
  };
}

/**
 * The --env-file text. The other auth variables are unset because a profile or a second complete auth
 * method left in the shell would win over (or conflict with) the emulator's host and token.
 */
export function envFileText(host: string, token: string): string {
  return [
    "# dbxr-emulator: source this file (. ./FILE) to point dbxr at the emulator",
    "unset DATABRICKS_CONFIG_PROFILE DATABRICKS_AUTH_TYPE DATABRICKS_CLIENT_ID DATABRICKS_CLIENT_SECRET",
    `export DATABRICKS_HOST=${shellQuote(host)}`,
    `export DATABRICKS_TOKEN=${shellQuote(token)}`,
    "",
  ].join("\n");
}

/** Writes the file whole (a temp file renamed over it), so that a waiting `[ -f FILE ]` never sees half. */
async function writeEnvFile(path: string, text: string) {
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, text, { mode: 0o600 });
  await Deno.rename(tmp, path);
}

export interface RunningServer {
  emulator: Emulator;
  host: string;
  /** Closes the emulator, then the server. */
  shutdown(): Promise<void>;
  /** Stops listening (in-flight requests finish) but keeps the emulator and its state, to serve it again. */
  stopListening(): Promise<void>;
  finished: Promise<void>;
}

/**
 * Starts the server; it listens (and knows its URL) when this returns. With `emulator`, serves that one (its
 * state kept): a server that stops and comes back on the same port, as tests of an outage need.
 */
export function serve(args: ServerArgs, log: (line: string) => void, existing?: Emulator): RunningServer {
  const emulator = existing ?? createEmulator(args.options);
  const abort = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: args.port,
    signal: abort.signal,
    // Without onListen Deno prints its own "Listening on" line to stdout, ahead of ours.
    onListen() {},
    onError(error) {
      // An injected dropped connection is the point of the fault, not a server problem.
      if (!(error instanceof DroppedConnection)) {
        log(`dbxr-emulator: ${error instanceof Error ? error.stack : error}`);
      }
      return new Response("Internal Server Error", { status: 500 });
    },
  }, (req) => emulator.handle(req));
  const host = `http://127.0.0.1:${server.addr.port}`;
  emulator.setBaseUrl(host);
  return {
    emulator,
    host,
    finished: server.finished,
    async shutdown() {
      await emulator.close();
      abort.abort();
      await server.finished;
    },
    async stopListening() {
      abort.abort();
      await server.finished;
    },
  };
}

async function main(argv: string[]): Promise<number> {
  // deno-lint-ignore no-console
  const log = (line: string) => console.error(line);
  let parsed: ParsedArgs;
  try {
    parsed = parseServerArgs(argv);
  } catch (e) {
    log(`dbxr-emulator: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    // deno-lint-ignore no-console
    console.log(USAGE);
    return 0;
  }
  let server: RunningServer;
  try {
    server = serve(parsed.args, log);
  } catch (e) {
    log(`dbxr-emulator: cannot listen on 127.0.0.1:${parsed.args.port}: ${(e as Error).message}`);
    return 1;
  }
  const { emulator } = server;
  // The one line that clients parse: keep it first and alone on stdout.
  // deno-lint-ignore no-console
  console.log(JSON.stringify({
    host: server.host,
    token: emulator.token,
    client_id: emulator.clientId,
    client_secret: emulator.clientSecret,
  }));
  log(`dbxr-emulator: listening on ${server.host} (control API at ${server.host}/__emulator/health)`);
  const { envFile } = parsed.args;
  if (envFile) {
    try {
      await writeEnvFile(envFile, envFileText(server.host, emulator.token));
    } catch (e) {
      log(`dbxr-emulator: cannot write --env-file ${envFile}: ${(e as Error).message}`);
      await server.shutdown();
      return 1;
    }
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    log("dbxr-emulator: shutting down");
    // A stale file would send the next `until [ -f FILE ]` to a port nobody listens on.
    if (envFile) {
      try {
        Deno.removeSync(envFile);
      } catch { /* already gone */ }
    }
    server.shutdown().catch((e) => log(`dbxr-emulator: error while shutting down: ${e}`));
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  signals.forEach((s) => Deno.addSignalListener(s, stop));
  await server.finished;
  signals.forEach((s) => Deno.removeSignalListener(s, stop));
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
