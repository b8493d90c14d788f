// The `results` object of an API 1.2 CommandStatusResponse (docs/databricks-behaviour.md §2.2), and the
// answers that the emulator gives when the Python process cannot give one itself (cancel, context loss, REPL
// death).

export type CommandStatus = "Queued" | "Running" | "Cancelling" | "Finished" | "Cancelled" | "Error";

export interface TableColumn {
  name: string;
  /** A JSON-encoded Spark type name, e.g. `"\"long\""` (that is what `isJsonSchema: true` means). */
  type: string;
  metadata: string;
}

export type CommandResults =
  | { resultType: "text"; data: string }
  | { resultType: "table"; data: unknown[][]; schema: TableColumn[]; truncated: boolean; isJsonSchema: true }
  | { resultType: "image"; fileName: string }
  | { resultType: "images"; fileNames: string[] }
  | { resultType: "error"; summary?: string; cause?: string };

export type ErrorResults = Extract<CommandResults, { resultType: "error" }>;

const CANCELLED = "com.databricks.backend.common.rpc.CommandCancelledException";

// Stack frames as quoted in public reports of real responses (paiqo/Databricks-VSCode#220 for a
// cancelled command, #132 for a context that was shut down); clients only look for the class name.
const CANCEL_FRAMES = [
  "com.databricks.spark.chauffeur.SequenceExecutionState.$anonfun$cancel$5(SequenceExecutionState.scala:132)",
  "scala.Option.getOrElse(Option.scala:189)",
  "com.databricks.spark.chauffeur.SequenceExecutionState.$anonfun$cancel$3(SequenceExecutionState.scala:132)",
  "com.databricks.spark.chauffeur.SequenceExecutionState.$anonfun$cancel$3$adapted(SequenceExecutionState.scala:129)",
  "scala.collection.immutable.Range.foreach(Range.scala:158)",
  "com.databricks.spark.chauffeur.SequenceExecutionState.cancel(SequenceExecutionState.scala:129)",
];
const SHUTDOWN_FRAMES = [
  "com.databricks.spark.chauffeur.ExecContextState.$anonfun$shutdown$3(ExecContextState.scala:419)",
  "scala.collection.immutable.List.flatMap(List.scala:366)",
  "com.databricks.spark.chauffeur.ExecContextState.shutdown(ExecContextState.scala:419)",
];

function javaError(head: string, frames: string[]): ErrorResults {
  return { resultType: "error", summary: head, cause: [head, ...frames.map((f) => `\tat ${f}`)].join("\n") };
}

/** A command cancelled while it ran, for the "Finished with the cancelled exception" outcome. */
export function commandCancelled(): ErrorResults {
  return javaError(CANCELLED, CANCEL_FRAMES);
}

/** A command that was running or queued when its context was shut down (destroy, eviction, restart). */
export function contextShutDown(): ErrorResults {
  return javaError(CANCELLED, SHUTDOWN_FRAMES);
}

/** The Python process died under a command (docs/databricks-behaviour.md §1.4, dbx#813). */
export function kernelUnavailable(): ErrorResults {
  return javaError(
    "java.lang.IllegalStateException: jupyter client is not available because the python kernel is not " +
      "defined. The kernel may be restarting or the repl may have been shut down.",
    [],
  );
}

/** The Python process never became ready (no python3, no IPython, a crash at start). */
export function replStartFailed(detail: string): ErrorResults {
  return javaError(`com.databricks.backend.common.rpc.ReplStartFailureException: ${detail}`, []);
}
