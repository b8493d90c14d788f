// Every change to a session, as pure functions: session in, new session out (the input is never
// mutated), no I/O, time passed in. The repl services call them inside SessionStore.update/withLock.

import { DbxrError } from "../errors.ts";
import { filesOf, nextStepNumber, type StepFiles, stepFiles } from "./files.ts";
import type { ActiveCommand, Language, Session, StepExtras, StepRecord, StepStatus } from "./schema.ts";
import { SESSION_VERSION } from "./schema.ts";
import { slugify } from "./slug.ts";
import { elapsedSeconds, isoUtc, parseIso } from "./time.ts";
import { shellQuote } from "../shell.ts";

/** The next step after NoSession or SessionCorrupt. */
export const CREATE_HINT = "dbxr create --cluster-id ID --session-name NAME";

export interface NewSessionInput {
  cluster_id: string;
  context_id: string;
  session_name: string;
  profile: string | null;
  host?: string;
  auth_type?: string;
  language: Language;
  now: number;
  /** highestStepOnDisk(): numbering continues past files an earlier session left. */
  highestOnDisk: number;
  /**
   * Steps to carry over. The seed's `create` in a folder whose session was destroyed kept that
   * session's steps (so an eviction's previous_steps listed them too); pass them to do the same.
   */
  steps?: StepRecord[];
}

export function newSession(i: NewSessionInput): Session {
  const steps = i.steps ?? [];
  const s: Session = {
    version: SESSION_VERSION,
    status: "active",
    cluster_id: i.cluster_id,
    context_id: i.context_id,
    session_name: i.session_name,
    step_counter: Math.max(i.highestOnDisk, ...steps.map((st) => st.step), 0),
    created_at: isoUtc(i.now),
    profile: i.profile,
    eviction_count: 0,
    language: i.language,
    steps,
  };
  if (i.host !== undefined) s.host = i.host;
  if (i.auth_type !== undefined) s.auth_type = i.auth_type;
  return s;
}

/** NoSession (with the seed's message) unless the session is active. */
export function requireLive(session: Session): void {
  if (session.status === "destroyed") {
    throw new DbxrError("NoSession", "Session has been destroyed. Run 'create' first.", {
      hint: CREATE_HINT,
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// A step's life: startStep (before submitting) -> markSubmitted (the API gave a command id) -> finishStep.

export interface StartStepInput {
  tag: string;
  /** Defaults to the session's language. */
  language?: Language;
  now: number;
  /** highestStepOnDisk(projectDir). */
  highestOnDisk?: number;
  /** For the commands in the Running error's tip; default ".". */
  projectDir?: string;
  /** exec --no-replay (false) / --replay-safe (true); recorded in the step. */
  replay?: boolean;
  /** The recorded step that `dbxr repl replay` re-runs as this one. */
  replay_of?: number;
}

export interface StartedStep {
  session: Session;
  active: ActiveCommand;
  files: StepFiles;
}

/**
 * Reserves the next step number and records the command as active with `state: "submitting"`.
 * Refuses (the `SessionBusy` error, exit 5) while another command is active: the context runs one command
 * at a time and a new one would only queue behind it. Write the `.cmd.*` file and this session before
 * submitting, so neither the code nor the step number is lost if the process dies mid-submit.
 */
export function startStep(session: Session, i: StartStepInput): StartedStep {
  requireLive(session);
  if (session.active_command) throw busyError(session, i.projectDir ?? ".");
  const step = nextStepNumber(session, i.highestOnDisk ?? 0);
  const slug = slugify(i.tag);
  const language = i.language ?? session.language;
  const files = stepFiles(step, slug, language);
  const active: ActiveCommand = {
    step,
    tag: i.tag,
    slug,
    command_file: files.command_file,
    started_at: isoUtc(i.now),
    state: "submitting",
    context_id: session.context_id,
    language,
  };
  if (i.replay !== undefined) active.replay = i.replay;
  if (i.replay_of !== undefined) active.replay_of = i.replay_of;
  return { session: { ...session, step_counter: step, active_command: active }, active, files };
}

/** Records the API's command id for the active command (`state: "submitted"`). */
export function markSubmitted(session: Session, commandId: string): Session {
  const active = session.active_command;
  if (!active || (active.command_id !== undefined && active.command_id !== commandId)) {
    throw new DbxrError("Error", "internal error: no command is waiting for its command id", {
      details: { step: active?.step, command_id: active?.command_id },
    });
  }
  return { ...session, active_command: { ...active, state: "submitted", command_id: commandId } };
}

export interface FinishStepInput extends StepExtras {
  status: StepStatus;
  finished_at: string;
  elapsed_seconds: number;
  /** When given, the active command must be this step (guards against finishing another one). */
  step?: number;
}

/** Appends the active command's step record (the seed's fields first) and clears active_command. */
export function finishStep(
  session: Session,
  i: FinishStepInput,
): { session: Session; record: StepRecord; files: StepFiles } {
  const active = session.active_command;
  if (!active || (i.step !== undefined && active.step !== i.step)) {
    throw new DbxrError("Error", "internal error: the step to finish is not the active command", {
      details: { step: i.step, active_step: active?.step },
    });
  }
  const { status, finished_at, elapsed_seconds, step: _step, ...extras } = i;
  const record: StepRecord = {
    step: active.step,
    tag: active.tag,
    session_name: session.session_name,
    status,
    command_file: active.command_file,
    started_at: active.started_at,
    finished_at,
    elapsed_seconds,
    slug: active.slug,
    command_id: active.command_id,
    ...extras,
    replay: active.replay,
    replay_of: active.replay_of,
  };
  for (const k of Object.keys(record) as (keyof StepRecord)[]) if (record[k] === undefined) delete record[k];
  const { active_command: _active, ...rest } = session;
  return {
    session: {
      ...rest,
      step_counter: Math.max(session.step_counter, active.step),
      steps: [...session.steps, record],
    },
    record,
    files: filesOf(active, active.language),
  };
}

// ---------------------------------------------------------------------------------------------------

export type ActiveClass =
  | { kind: "none" }
  /**
   * Recorded but never confirmed: the process died between recording and submitting. The command
   * may or may not have run and there is no id to poll. Definitive only when read under the lock
   * (exec holds it around record + submit + markSubmitted).
   */
  | { kind: "in-doubt"; active: ActiveCommand; files: StepFiles }
  /** Submitted: poll its command id, or finalise it if it has ended. */
  | { kind: "pending"; active: ActiveCommand; command_id: string; files: StepFiles };

export function classifyActive(session: Session): ActiveClass {
  const active = session.active_command;
  if (!active) return { kind: "none" };
  const files = filesOf(active, active.language);
  return active.command_id === undefined
    ? { kind: "in-doubt", active, files }
    : { kind: "pending", active, command_id: active.command_id, files };
}

/** The tip of the seed's Running response, as runnable dbxr commands. */
export function runningTip(projectDir = ".", timeoutSeconds = 600): { await: string; cancel: string } {
  const dir = shellQuote(projectDir);
  return {
    await: `dbxr await --timeout ${timeoutSeconds} --project-dir ${dir}`,
    cancel: `dbxr cancel --project-dir ${dir}`,
  };
}

/**
 * The `SessionBusy` error (exit 5): exec while another command is active. It names the active step
 * (its `cmd_id`, `command_id` and the `await`/`cancel` tip) and never says `"status": "Running"`, which
 * an agent would take for its own command. `submitterAlive` (only for a command not yet submitted):
 * whether the dbxr process that submits it is still there; unknown counts as gone (in doubt).
 */
export function busyError(session: Session, projectDir = ".", submitterAlive = false): DbxrError {
  const c = classifyActive(session);
  if (c.kind === "none") throw new RangeError("busyError needs an active command");
  const tip = runningTip(projectDir);
  const details = {
    cmd_id: c.files.cmd_id,
    command_id: c.kind === "pending" ? c.command_id : null,
    step: c.active.step,
    tag: c.active.tag,
    state: c.active.state,
    started_at: c.active.started_at,
    ...(c.active.remote_status ? { remote_status: c.active.remote_status } : {}),
    tip,
  };
  const fields = { cmd_id: details.cmd_id, command_id: details.command_id, tip };
  if (c.kind === "in-doubt" && submitterAlive) {
    return new DbxrError(
      "SessionBusy",
      `Command ${c.files.cmd_id} is being submitted by another dbxr process; the context runs one command ` +
        "at a time. Await it or cancel it before running another command.",
      { hint: tip.await, details, fields },
    );
  }
  if (c.kind === "in-doubt") {
    // Nothing to await: there is no command id to wait on. Only cancel clears it.
    const cancelOnly = { cancel: tip.cancel };
    return new DbxrError(
      "SessionBusy",
      `Command ${c.files.cmd_id} was being submitted when its dbxr process stopped; it may or may not have run. ` +
        "Cancel it to clear it, then run it again if needed.",
      { hint: tip.cancel, details: { ...details, tip: cancelOnly }, fields: { ...fields, tip: cancelOnly } },
    );
  }
  const stuck = c.active.remote_status === "Cancelling"
    ? " It was cancelled but has not ended yet (the code may catch KeyboardInterrupt)."
    : "";
  return new DbxrError(
    "SessionBusy",
    `Command ${c.files.cmd_id} is still running; the context runs one command at a time.${stuck} ` +
      "Await it or cancel it before running another command.",
    { hint: tip.await, details, fields },
  );
}

/** The earlier name of {@link busyError}, kept while branches written against it are merged. */
export const runningError = busyError;

// ---------------------------------------------------------------------------------------------------

/** After an eviction: the fresh context, as the seed recorded it. Finish the evicted step first. */
export function recordEviction(session: Session, newContextId: string, now: number): Session {
  return {
    ...session,
    context_id: newContextId,
    eviction_count: (session.eviction_count ?? 0) + 1,
    last_eviction_at: isoUtc(now),
  };
}

export interface PreviousStep {
  step: number;
  tag: string;
  command_file: string;
}

/**
 * `previous_steps` of the ContextEvicted response: every step in order, as the seed listed them,
 * except those recorded as ContextEvicted (they never ran, so there is nothing to replay).
 */
export function previousSteps(session: Session): PreviousStep[] {
  return session.steps
    .filter((s) => s.status !== "ContextEvicted")
    .map((s) => ({ step: s.step, tag: s.tag, command_file: s.command_file }));
}

/**
 * Marks the session destroyed. A command still active dies with its context, so it is recorded as
 * Cancelled: a destroyed session never keeps an active_command.
 */
export function destroy(session: Session, now: number): Session {
  if (session.status === "destroyed") {
    throw new DbxrError("NoSession", "Session is already destroyed.", { hint: CREATE_HINT });
  }
  let s = session;
  if (s.active_command) {
    const started = parseIso(s.active_command.started_at) ?? now;
    s = finishStep(s, {
      status: "Cancelled",
      finished_at: isoUtc(now),
      elapsed_seconds: elapsedSeconds(started, now),
    })
      .session;
  }
  return { ...s, status: "destroyed", destroyed_at: isoUtc(now) };
}

// ---------------------------------------------------------------------------------------------------
// The workspace a session belongs to: a context id must never be sent to another workspace.

export interface Workspace {
  host?: string;
  /** Only when the user named one (--profile or DATABRICKS_CONFIG_PROFILE). */
  profile?: string;
}

/** InvalidArgument when this call resolved another host, or an explicit other profile. */
export function checkWorkspace(session: Session, w: Workspace, projectDir = "."): void {
  const hostDiffers = session.host !== undefined && w.host !== undefined &&
    normalizeHost(session.host) !== normalizeHost(w.host);
  const profileDiffers = session.profile !== null && w.profile !== undefined && w.profile !== session.profile;
  if (!hostDiffers && !profileDiffers) return;
  const theirs = [session.profile !== null ? `profile ${session.profile}` : "", session.host ?? ""].filter(
    Boolean,
  );
  const ours = [w.profile ? `profile ${w.profile}` : "", w.host ?? ""].filter(Boolean);
  throw new DbxrError(
    "InvalidArgument",
    `The session in ${projectDir} belongs to ${theirs.join(", ")}; this call resolved ${ours.join(", ")}.`,
    {
      hint: session.profile !== null
        ? `dbxr status --project-dir ${shellQuote(projectDir)} --profile ${shellQuote(session.profile)}`
        : `dbxr status --project-dir ${shellQuote(projectDir)} --host ${shellQuote(session.host ?? "")}`,
      details: {
        session_host: session.host,
        session_profile: session.profile,
        host: w.host,
        profile: w.profile,
      },
    },
  );
}

/** Fills host and auth_type of a session that lacks them (one migrated from the seed's tool). */
export function bindWorkspace(session: Session, w: { host: string; auth_type?: string }): Session {
  if (session.host !== undefined && (session.auth_type !== undefined || w.auth_type === undefined)) {
    return session;
  }
  return {
    ...session,
    host: session.host ?? w.host,
    ...(session.auth_type === undefined && w.auth_type !== undefined ? { auth_type: w.auth_type } : {}),
  };
}

/** Scheme and host, lower-cased: how two spellings of one workspace URL compare equal. */
export function normalizeHost(h: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(h) ? h : `https://${h}`;
  try {
    const u = new URL(withScheme);
    return `${u.protocol}//${u.host}`.toLowerCase();
  } catch {
    return withScheme.replace(/\/+$/, "").toLowerCase();
  }
}
