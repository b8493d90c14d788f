// The shape of session.json. The seed's keys and values are kept as its tool wrote them (agents read
// this file directly); dbxr adds `version`, `host`, `auth_type`, `language`, a step's `slug` and a few
// optional step fields, and never renames a key. Unknown keys are carried through untouched: the types
// below name what dbxr reads, and the objects at run time may hold more.

export const SESSION_VERSION = 1;

export type SessionStatus = "active" | "destroyed";
export type Language = "python" | "sql" | "scala";
export const LANGUAGES: readonly Language[] = ["python", "sql", "scala"];

/**
 * What dbxr records as a step's status. Files written by the seed's tool may hold other values of the
 * SDK's CommandStatus (or "Unknown"), which are kept as they are.
 */
export type StepStatus = "Finished" | "Error" | "Cancelled" | "ContextEvicted";

/** Optional per-step fields that dbxr adds after the seed's; absent in seed-written steps. */
export interface StepExtras {
  command_id?: string;
  /** The API's resultType: text, table, images, error. */
  result_type?: string;
  /** The API dropped part of the output (text marker or a truncated table). */
  truncated?: boolean;
  stdout_bytes?: number;
  stderr_bytes?: number;
  /** `repl_outputs/NNN_slug.result.json` or `.png`, relative to the project dir. */
  result_file?: string;
  /**
   * The user's choice at exec: false (`--no-replay`: side effects that must not run twice), true
   * (`--replay-safe`); absent when not said, which `dbxr repl replay` treats as replayable.
   */
  replay?: boolean;
  /** Set on a step that `dbxr repl replay` ran: the number of the recorded step it re-ran. */
  replay_of?: number;
}

export interface StepRecord extends StepExtras {
  // The seed's fields, in the seed's order.
  step: number;
  /** The tag as the user gave it. */
  tag: string;
  session_name: string;
  status: StepStatus | (string & Record<never, never>);
  /** `./repl_outputs/NNN_slug.cmd.py`, relative to the project dir, as in the seed's files. */
  command_file: string;
  started_at: string;
  finished_at: string;
  elapsed_seconds: number;
  // dbxr's.
  /** The tag as it appears in file names; absent in seed-written steps until migrated. */
  slug?: string;
}

/**
 * The command that is running (or being submitted). The seed wrote `{command_id, step, tag,
 * started_at}` after the API answered; dbxr writes it BEFORE submitting (`state: "submitting"`) so
 * that a process killed in between leaves a trace, then adds the `command_id` (`state: "submitted"`).
 */
export interface ActiveCommand {
  step: number;
  tag: string;
  slug: string;
  command_file: string;
  started_at: string;
  state: "submitting" | "submitted";
  command_id?: string;
  /** The context the command was submitted to: an eviction in between means it is gone. */
  context_id: string;
  language: Language;
  /** Carried into the step record when it finishes (see StepExtras). */
  replay?: boolean;
  replay_of?: number;
  /**
   * The dbxr process that submits it (informative), and the lock file in repl_outputs/ that this
   * process holds while `state` is "submitting": the kernel drops it when the process dies, so a
   * command is "in doubt" only when nobody holds it (see store.ts submitterAlive).
   */
  pid?: number;
  submit_lock?: string;
  /** `dbxr cancel` came while the command was being submitted: its submitter cancels it once it has an id. */
  cancel_requested?: boolean;
  /** The last remote state that dbxr saw when it gave up waiting (`Cancelling` after an unsettled cancel). */
  remote_status?: string;
}

export interface Session {
  version: typeof SESSION_VERSION;
  // The seed's keys.
  status: SessionStatus;
  cluster_id: string;
  context_id: string;
  session_name: string;
  /** The highest step number handed out so far (the next one is this + 1, or more; see files.ts). */
  step_counter: number;
  created_at: string;
  destroyed_at?: string;
  /** The profile given at create; the seed wrote null when none was given. */
  profile: string | null;
  eviction_count?: number;
  last_eviction_at?: string;
  steps: StepRecord[];
  active_command?: ActiveCommand;
  // dbxr's: the workspace the context lives in (absent in a migrated seed file until bound).
  host?: string;
  auth_type?: string;
  language: Language;
}

/** Key order on disk: the seed's keys where it had them, dbxr's after; unknown keys last, in their order. */
export const SESSION_KEY_ORDER = [
  "version",
  "status",
  "cluster_id",
  "context_id",
  "session_name",
  "step_counter",
  "created_at",
  "destroyed_at",
  "profile",
  "eviction_count",
  "last_eviction_at",
  "host",
  "auth_type",
  "language",
  "active_command",
  "steps",
] as const;

export const STEP_KEY_ORDER = [
  "step",
  "tag",
  "session_name",
  "status",
  "command_file",
  "started_at",
  "finished_at",
  "elapsed_seconds",
  "slug",
  "command_id",
  "result_type",
  "truncated",
  "stdout_bytes",
  "stderr_bytes",
  "result_file",
  "replay",
  "replay_of",
] as const;

export const ACTIVE_KEY_ORDER = [
  "step",
  "tag",
  "slug",
  "command_file",
  "started_at",
  "state",
  "command_id",
  "context_id",
  "language",
  "replay",
  "replay_of",
  "pid",
  "submit_lock",
  "cancel_requested",
  "remote_status",
] as const;

/** A copy of `obj` with `order`'s keys first; other keys follow in their original order. */
export function orderKeys<T extends object>(obj: T, order: readonly string[]): T {
  const src = obj as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of order) if (src[k] !== undefined) out[k] = src[k];
  for (const k of Object.keys(src)) if (!(k in out) && src[k] !== undefined) out[k] = src[k];
  return out as T;
}

/** session.json's text: canonical key order, two-space indent and a final newline, as the seed wrote. */
export function serializeSession(s: Session): string {
  const ordered = orderKeys(
    {
      ...s,
      steps: s.steps.map((st) => orderKeys(st, STEP_KEY_ORDER)),
      active_command: s.active_command && orderKeys(s.active_command, ACTIVE_KEY_ORDER),
    },
    SESSION_KEY_ORDER,
  );
  return JSON.stringify(ordered, null, 2) + "\n";
}

// ---------------------------------------------------------------------------------------------------
// Validation: what a session must hold for dbxr to act on it. Lenient where the seed's tool could
// have left a key out, strict where a wrong value would send a command to the wrong place.

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === "string";
const isStepNo = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** The problems that make `v` unusable as a version-1 session, as `path: what` strings; [] when valid. */
export function validateSession(v: unknown): string[] {
  const p: string[] = [];
  if (!isObj(v)) return ["$: not a JSON object"];
  if (v.version !== SESSION_VERSION) p.push(`version: expected ${SESSION_VERSION}`);
  if (v.status !== "active" && v.status !== "destroyed") p.push(`status: expected "active" or "destroyed"`);
  for (const k of ["cluster_id", "context_id", "session_name", "created_at"]) {
    if (!isStr(v[k])) p.push(`${k}: expected a string`);
  }
  if (!isStepNo(v.step_counter)) p.push("step_counter: expected a non-negative integer");
  if (v.profile !== null && !isStr(v.profile)) p.push("profile: expected a string or null");
  for (const k of ["destroyed_at", "last_eviction_at", "host", "auth_type"]) {
    if (v[k] !== undefined && !isStr(v[k])) p.push(`${k}: expected a string`);
  }
  if (v.eviction_count !== undefined && !isStepNo(v.eviction_count)) {
    p.push("eviction_count: expected a non-negative integer");
  }
  if (!LANGUAGES.includes(v.language as Language)) {
    p.push(`language: expected one of ${LANGUAGES.join(", ")}`);
  }
  if (!Array.isArray(v.steps)) p.push("steps: expected an array");
  else v.steps.forEach((st, i) => p.push(...validateStep(st, `steps[${i}]`)));
  if (v.active_command !== undefined) p.push(...validateActive(v.active_command, "active_command"));
  return p;
}

function validateStep(v: unknown, at: string): string[] {
  if (!isObj(v)) return [`${at}: not a JSON object`];
  const p: string[] = [];
  if (!isStepNo(v.step)) p.push(`${at}.step: expected a non-negative integer`);
  for (const k of ["tag", "status", "command_file"]) {
    if (!isStr(v[k])) p.push(`${at}.${k}: expected a string`);
  }
  for (
    const k of [
      "session_name",
      "started_at",
      "finished_at",
      "slug",
      "command_id",
      "result_type",
      "result_file",
    ]
  ) {
    if (v[k] !== undefined && v[k] !== null && !isStr(v[k])) p.push(`${at}.${k}: expected a string`);
  }
  for (const k of ["elapsed_seconds", "stdout_bytes", "stderr_bytes"]) {
    if (v[k] !== undefined && v[k] !== null && !isNum(v[k])) p.push(`${at}.${k}: expected a number`);
  }
  p.push(...validateReplayFields(v, at));
  return p;
}

function validateReplayFields(v: Record<string, unknown>, at: string): string[] {
  const p: string[] = [];
  if (v.replay !== undefined && typeof v.replay !== "boolean") p.push(`${at}.replay: expected a boolean`);
  if (v.replay_of !== undefined && !isStepNo(v.replay_of)) {
    p.push(`${at}.replay_of: expected a non-negative integer`);
  }
  return p;
}

function validateActive(v: unknown, at: string): string[] {
  if (!isObj(v)) return [`${at}: not a JSON object`];
  const p: string[] = [];
  if (!isStepNo(v.step)) p.push(`${at}.step: expected a non-negative integer`);
  for (const k of ["tag", "slug", "command_file", "started_at", "context_id"]) {
    if (!isStr(v[k])) p.push(`${at}.${k}: expected a string`);
  }
  if (v.state !== "submitting" && v.state !== "submitted") {
    p.push(`${at}.state: expected "submitting" or "submitted"`);
  }
  if (v.state === "submitted" && !isStr(v.command_id)) {
    p.push(`${at}.command_id: expected a string once submitted`);
  }
  if (v.command_id !== undefined && !isStr(v.command_id)) p.push(`${at}.command_id: expected a string`);
  if (!LANGUAGES.includes(v.language as Language)) {
    p.push(`${at}.language: expected one of ${LANGUAGES.join(", ")}`);
  }
  p.push(...validateReplayFields(v, at));
  return p;
}
