// Reading session.json of any version into the current shape, in memory. A file that the seed's tool
// wrote has no `version` and is read as version 0; the store writes the migrated form on its next
// write, so a file that is only read is never changed. Pure: no I/O, no clock.

import {
  type ActiveCommand,
  type Language,
  type Session,
  SESSION_VERSION,
  validateSession,
} from "./schema.ts";
import { commandFileName, parseStepFileName } from "./files.ts";

export type MigrateResult =
  | { ok: true; session: Session; fromVersion: number }
  /** `newer`: written by a later dbxr (not corrupt: leave it alone). `invalid`: unusable. */
  | { ok: false; reason: "newer" | "invalid"; problems: string[]; version?: number };

export function migrate(raw: unknown): MigrateResult {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, reason: "invalid", problems: ["$: not a JSON object"] };
  }
  const obj = raw as Record<string, unknown>;
  const version = obj.version === undefined ? 0 : obj.version;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 0) {
    return { ok: false, reason: "invalid", problems: ["version: expected an integer"] };
  }
  if (version > SESSION_VERSION) {
    return {
      ok: false,
      reason: "newer",
      problems: [`version: ${version} is newer than ${SESSION_VERSION}`],
      version,
    };
  }
  const current = version === 0 ? fromV0(obj) : obj;
  const problems = validateSession(current);
  if (problems.length > 0) return { ok: false, reason: "invalid", problems, version };
  return { ok: true, session: current as unknown as Session, fromVersion: version };
}

/**
 * The seed's file → version 1. Its keys and values stay as they are; what dbxr needs and the seed
 * did not write is added: `version`, `language` (the seed ran Python only), `eviction_count` (the
 * seed wrote it only after the first eviction), each step's `slug` (taken from the file that the
 * seed really wrote, which used the raw tag), and the dbxr fields of `active_command`.
 */
function fromV0(v0: Record<string, unknown>): Record<string, unknown> {
  const language: Language = "python";
  const out: Record<string, unknown> = {
    ...v0,
    version: SESSION_VERSION,
    language,
    eviction_count: v0.eviction_count ?? 0,
    // Anything but an array is left for validation to reject.
    steps: v0.steps === undefined ? [] : Array.isArray(v0.steps) ? v0.steps.map(stepFromV0) : v0.steps,
  };
  // The seed's create always wrote profile (null without --profile); tolerate hand-made files.
  if (!("profile" in v0)) out.profile = null;
  if (v0.active_command !== undefined) out.active_command = activeFromV0(v0.active_command, v0, language);
  return out;
}

function stepFromV0(step: unknown): unknown {
  if (typeof step !== "object" || step === null || Array.isArray(step)) return step;
  const s = step as Record<string, unknown>;
  if (s.slug !== undefined || typeof s.command_file !== "string") return s;
  const parsed = parseStepFileName(s.command_file);
  return parsed ? { ...s, slug: parsed.slug } : s;
}

function activeFromV0(active: unknown, v0: Record<string, unknown>, language: Language): unknown {
  if (typeof active !== "object" || active === null || Array.isArray(active)) return active;
  const a = active as Record<string, unknown>;
  if (typeof a.step !== "number" || typeof a.tag !== "string") return a;
  // The seed named its files after the raw tag, so the raw tag is the "slug" of those files.
  const slug = typeof a.slug === "string" ? a.slug : a.tag;
  const migrated: Partial<ActiveCommand> & Record<string, unknown> = {
    ...a,
    slug,
    command_file: typeof a.command_file === "string"
      ? a.command_file
      : commandFileName(a.step, slug, language),
    started_at: typeof a.started_at === "string" ? a.started_at : String(v0.created_at ?? ""),
    // The seed recorded active_command only once the API had answered with a command id.
    state: typeof a.command_id === "string" ? "submitted" : "submitting",
    context_id: typeof a.context_id === "string" ? a.context_id : v0.context_id as string,
    language,
  };
  return migrated;
}
