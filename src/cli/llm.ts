// The `llm` group: serving-endpoint LLM calls from the command line, the same endpoints and chat format
// that sub_llm uses inside the REPL.

import { Command } from "@commander-js/extra-typings";
import { connect } from "../api/connect.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import { examples, globals } from "./root.ts";
import { positiveInt, temperature } from "./parse.ts";

export function llmCommands(ctx: Ctx) {
  const group = new Command("llm").description(
    "Call serving-endpoint LLMs: one question, a resumable batch from a JSONL file, the endpoints",
  );
  examples(group, ['dbxr llm ask --endpoint default-llm-endpoint --prompt "Say hi"', "dbxr llm endpoints"]);

  group.addCommand(examples(
    new Command("ask")
      .description(
        "Ask a serving endpoint one question (chat format); prints the answer's text and token usage",
      )
      .requiredOption("--endpoint <name>", "the serving endpoint")
      .option("--prompt <text>", "the question; - (or no --prompt) reads it from stdin")
      .option("--system <text>", "a system message")
      .option("--max-tokens <n>", "the answer's length limit", positiveInt, 1024)
      .option("--temperature <t>", "sampling temperature (0 to 2)", temperature, 0)
      .action(async (o, c) => {
        const prompt = o.prompt === undefined || o.prompt === "-" ? await ctx.readStdin() : o.prompt;
        if (prompt.trim() === "") {
          throw new DbxrError("InvalidArgument", "the prompt is empty", {
            hint: 'dbxr llm ask --endpoint ENDPOINT --prompt "..."',
          });
        }
        const { client } = await connect(ctx, globals(c), "llm_ask");
        const { ask } = await import("../llm/ask.ts");
        const a = await ask(ctx, client, {
          endpoint: o.endpoint,
          prompt,
          system: o.system,
          maxTokens: o.maxTokens,
          temperature: o.temperature,
        });
        ctx.out.result(a, { text: (x) => x.text });
      }),
    [
      'dbxr llm ask --endpoint default-llm-endpoint --prompt "Summarise: ..."',
      'echo "What is Delta Lake?" | dbxr llm ask --endpoint databricks-meta-llama-3-3-70b-instruct --text',
    ],
  ));

  group.addCommand(examples(
    new Command("batch")
      .description(
        'Ask many prompts (a JSONL file: one JSON string, or an object with "prompt" and optional ' +
          '"id", "system", "max_tokens", per line) with bounded concurrency. Each answer is appended to ' +
          "--out as it arrives; a rerun skips prompts already answered there, so a killed batch resumes. " +
          "--out ends up in input order, one line per prompt: {index, id, key, text, usage} or {index, " +
          "key, error}.",
      )
      .requiredOption("--endpoint <name>", "the serving endpoint")
      .requiredOption("--in <file>", "prompts, one JSON value per line")
      .requiredOption("--out <file>", "results (JSONL); also the checkpoint for resuming")
      .option("--concurrency <n>", "calls in flight at once", positiveInt, 8)
      .option("--system <text>", "a system message for prompts that have none")
      .option("--max-tokens <n>", "the answers' length limit", positiveInt)
      .action(async (o, c) => {
        const { client } = await connect(ctx, globals(c), "llm_batch");
        const { runBatch } = await import("../llm/batch.ts");
        const r = await runBatch(ctx, client, {
          endpoint: o.endpoint,
          inFile: o.in,
          outFile: o.out,
          concurrency: o.concurrency,
          system: o.system,
          maxTokens: o.maxTokens,
        });
        ctx.out.result(r.response, {
          exitCode: r.exitCode,
          text: (x) =>
            `${x.status}: ${x.succeeded} answered, ${x.failed} failed, ${x.already_answered} already done ` +
            `(${x.usage.total_tokens} tokens) → ${x.out_file}`,
        });
      }),
    [
      "dbxr llm batch --endpoint default-llm-endpoint --in prompts.jsonl --out answers.jsonl",
      "dbxr llm batch --endpoint default-llm-endpoint --in prompts.jsonl --out answers.jsonl --concurrency 16",
    ],
  ));

  group.addCommand(examples(
    new Command("endpoints")
      .description("List the workspace's serving endpoints with their task, type and state")
      .action(async (_o, c) => {
        const { client } = await connect(ctx, globals(c), "llm_endpoints");
        const { listEndpoints } = await import("../api/serving.ts");
        const list = (await listEndpoints(client, ctx.signal)).map((e) => ({
          name: e.name,
          task: e.task ?? null,
          endpoint_type: e.endpoint_type ?? null,
          state: e.state?.ready ?? null,
          config_update: e.state?.config_update ?? null,
        }));
        ctx.out.result(list, {
          text: (rows) =>
            rows.length === 0
              ? "no serving endpoints"
              : rows.map((r) => `${r.name}\t${r.task ?? "-"}\t${r.endpoint_type ?? "-"}\t${r.state ?? "-"}`)
                .join("\n"),
        });
      }),
    ["dbxr llm endpoints", "dbxr llm endpoints --json"],
  ));
  return group;
}
