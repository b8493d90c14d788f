// Which recorded steps `dbxr repl replay` runs again, and why the others are left out. Pure: the
// session's steps (and, when known, the code of their command files) in, a plan out.
//
// The rule, in order, for each recorded step:
//   1. a step that is itself a replay (`replay_of`) is left out: its original is judged instead;
//   2. steps outside --from/--to, or whose tag is not in --only, are left out;
//   3. a step recorded with `exec --no-replay` (`replay: false`) is left out;
//   4. only steps recorded as Finished run: Error and Cancelled steps failed, ContextEvicted ones
//      never ran, other statuses (from the seed's tool) are unknown outcomes;
//   5. consecutive successful attempts of one tag (no successful step of another tag between them)
//      are retries: only the last one runs. An earlier attempt with another step after it runs too,
//      because that step may have used what the earlier attempt defined: leaving it out could change
//      what later steps see. `allAttempts` turns this rule off (every successful attempt runs);
//   6. a step whose command file is in another language than the session's context is left out, and
//      so is one whose command file is missing (the runner then refuses to run: see replay.ts).
// The rules apply within the selected steps (--from/--to/--only).

import type { Language, StepRecord } from "./schema.ts";

export type SkipReason =
  | "replay"
  | "before_from"
  | "after_to"
  | "not_in_only"
  | "not_replayable"
  | "failed"
  | "cancelled"
  | "never_ran"
  | "not_finished"
  | "superseded"
  | "other_language"
  | "missing_file";

export interface ReplayPlanOptions {
  from?: number;
  to?: number;
  /** Tags (as given at exec, or their file-name slugs). */
  only?: string[];
  /** Run every successful attempt of a retried tag, not only the last of consecutive retries. */
  allAttempts?: boolean;
  /** The session's context language: steps written in another one cannot run there. */
  language: Language;
  /**
   * The code of each step's command file, by step number, when it was read (undefined: the file is
   * missing). Without this map nothing is checked for missing files or side effects.
   */
  code?: ReadonlyMap<number, string | undefined>;
}

export interface PlannedStep {
  step: number;
  tag: string;
  command_file: string;
  /** How long the step took when it was recorded. */
  elapsed_seconds: number | null;
  /** `true` when recorded with exec --replay-safe. */
  replay_safe: boolean;
  /** What in its code looks like a side effect (a write, a delete, a POST); [] when nothing does. */
  side_effects: string[];
}

export interface SkippedStep {
  step: number;
  tag: string;
  command_file: string;
  status: string;
  elapsed_seconds: number | null;
  reason: SkipReason;
  /** The reason for people. */
  why: string;
  /** For `superseded` and retried failures: the later attempt of the same tag that runs instead. */
  superseded_by?: number;
  /** For `replay`: the recorded step that it re-ran. */
  replay_of?: number;
}

export interface ReplayPlan {
  run: PlannedStep[];
  skipped: SkippedStep[];
  /** The sum of the recorded elapsed_seconds of the steps that run (unknown ones count 0). */
  recorded_seconds: number;
  warnings: string[];
}

const EXT_LANGUAGE: Record<string, Language> = { py: "python", sql: "sql", scala: "scala" };

export function commandFileLanguage(commandFile: string): Language | undefined {
  const ext = /\.cmd\.(py|sql|scala)$/.exec(commandFile)?.[1];
  return ext ? EXT_LANGUAGE[ext] : undefined;
}

export function planReplay(steps: readonly StepRecord[], o: ReplayPlanOptions): ReplayPlan {
  const ordered = [...steps].sort((a, b) => a.step - b.step);
  const only = o.only?.length ? new Set(o.only) : undefined;
  const decided = new Map<number, SkippedStep | "candidate">();
  const skip = (s: StepRecord, reason: SkipReason, why: string, extra: Partial<SkippedStep> = {}) =>
    decided.set(s.step, {
      step: s.step,
      tag: s.tag,
      command_file: s.command_file,
      status: s.status,
      elapsed_seconds: elapsedOf(s),
      reason,
      why,
      ...extra,
    });

  // The selected, successful originals: the steps whose order decides what counts as a retry.
  const finished: StepRecord[] = [];
  for (const s of ordered) {
    if (s.replay_of !== undefined) {
      skip(s, "replay", `a replay of step ${s.replay_of}; the recorded step is planned instead`, {
        replay_of: s.replay_of,
      });
    } else if (o.from !== undefined && s.step < o.from) {
      skip(s, "before_from", `before --from ${o.from}`);
    } else if (o.to !== undefined && s.step > o.to) {
      skip(s, "after_to", `after --to ${o.to}`);
    } else if (only && !only.has(s.tag) && !(s.slug !== undefined && only.has(s.slug))) {
      skip(s, "not_in_only", "tag not in --only");
    } else if (s.status !== "Finished") {
      decided.set(s.step, "candidate"); // judged below, once later attempts are known
    } else {
      finished.push(s);
      decided.set(s.step, "candidate");
    }
  }

  for (const [i, s] of finished.entries()) {
    if (s.replay === false) {
      skip(s, "not_replayable", "recorded with exec --no-replay (side effects that must not run twice)");
      continue;
    }
    if (!o.allAttempts) {
      // The last of the run of consecutive successful attempts of this tag.
      let j = i;
      while (j + 1 < finished.length && finished[j + 1].tag === s.tag) j++;
      if (j > i) {
        skip(
          s,
          "superseded",
          `an earlier attempt of tag "${s.tag}", retried right after as step ${finished[j].step}`,
          { superseded_by: finished[j].step },
        );
        continue;
      }
    }
    const lang = commandFileLanguage(s.command_file);
    if (lang !== undefined && lang !== o.language) {
      skip(s, "other_language", `a ${lang} step; the session's context runs ${o.language}`);
      continue;
    }
    if (o.code && o.code.get(s.step) === undefined) {
      skip(s, "missing_file", `its command file ${s.command_file} is missing`);
    }
  }

  // The later successful attempt of the same tag, followed to the one that replaces it in turn.
  const laterSuccess = (s: StepRecord) => {
    let n = finished.find((f) => f.step > s.step && f.tag === s.tag)?.step;
    for (let d = n === undefined ? undefined : decided.get(n); d && d !== "candidate" && d.superseded_by;) {
      n = d.superseded_by;
      d = decided.get(n);
    }
    return n;
  };
  for (const s of ordered) {
    if (decided.get(s.step) !== "candidate" || s.status === "Finished") continue;
    const retried = laterSuccess(s);
    const then = retried !== undefined ? `; retried later as step ${retried}` : "";
    const extra = retried !== undefined ? { superseded_by: retried } : {};
    if (s.status === "Error") skip(s, "failed", `failed when recorded (Error)${then}`, extra);
    else if (s.status === "Cancelled") skip(s, "cancelled", `cancelled when recorded${then}`, extra);
    else if (s.status === "ContextEvicted") {
      skip(s, "never_ran", `never ran: its context was lost (ContextEvicted)${then}`, extra);
    } else skip(s, "not_finished", `recorded as ${s.status}, not Finished${then}`, extra);
  }

  const run: PlannedStep[] = [];
  const skipped: SkippedStep[] = [];
  const warnings: string[] = [];
  for (const s of ordered) {
    const d = decided.get(s.step);
    if (d !== "candidate" && d !== undefined) {
      skipped.push(d);
      if (d.reason === "missing_file") {
        warnings.push(`step ${s.step} (${s.tag}): ${d.why}; the replay cannot restore it`);
      }
      continue;
    }
    const code = o.code?.get(s.step);
    const effects = s.replay === true || code === undefined ? [] : sideEffects(code);
    if (effects.length > 0) {
      warnings.push(
        `step ${s.step} (${s.tag}) looks like it has side effects (${effects.join(", ")}) and runs again; ` +
          "record such steps with exec --no-replay, or --replay-safe when running them twice is fine",
      );
    }
    run.push({
      step: s.step,
      tag: s.tag,
      command_file: s.command_file,
      elapsed_seconds: elapsedOf(s),
      replay_safe: s.replay === true,
      side_effects: effects,
    });
  }
  const recorded = run.reduce((sum, r) => sum + (r.elapsed_seconds ?? 0), 0);
  return { run, skipped, recorded_seconds: Math.round(recorded * 10) / 10, warnings };
}

function elapsedOf(s: StepRecord): number | null {
  return typeof s.elapsed_seconds === "number" && Number.isFinite(s.elapsed_seconds)
    ? s.elapsed_seconds
    : null;
}

// What commonly writes outside the context: running it twice writes twice. A hint, not a proof.
const SIDE_EFFECTS: Array<[string, RegExp]> = [
  ["saveAsTable", /\.saveAsTable\s*\(/],
  ["insertInto", /\.insertInto\s*\(/],
  [
    "DataFrame write",
    /\.write(?:Stream)?\s*(?:\.\s*\w+\s*\([^)]*\)\s*)*\.\s*(?:save|parquet|csv|json|orc|text|table|delta|start)\s*\(/,
  ],
  ["writeTo", /\.writeTo\s*\(/],
  ["pandas to_*", /\.to_(?:csv|parquet|json|excel|sql|delta|feather|pickle)\s*\(/],
  ["dbutils.fs", /\bdbutils\s*\.\s*fs\s*\.\s*(?:rm|put|mv|cp|mkdirs)\s*\(/],
  [
    "SQL write",
    /\b(?:INSERT\s+(?:INTO|OVERWRITE)|MERGE\s+INTO|DELETE\s+FROM|TRUNCATE\s+TABLE|DROP\s+(?:TABLE|VIEW|SCHEMA|DATABASE)|ALTER\s+TABLE|CREATE\s+(?:OR\s+REPLACE\s+)?TABLE|UPDATE\s+[\w.`]+\s+SET)\b/i,
  ],
  [
    "MLflow logging",
    /\bmlflow\s*\.\s*(?:\w+\s*\.\s*)?(?:log_model|register_model|log_artifacts?|log_metric|log_param)s?\s*\(/,
  ],
  ["HTTP write", /\brequests\s*\.\s*(?:post|put|patch|delete)\s*\(/],
  ["file write", /\bopen\s*\([^)]*,\s*['"][wax]b?\+?['"]/],
];

/** The labels of the side-effect patterns that `code` matches, in a stable order. */
export function sideEffects(code: string): string[] {
  return SIDE_EFFECTS.filter(([, re]) => re.test(code)).map(([label]) => label);
}
