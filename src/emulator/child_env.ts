// The environment of the emulator's python3 children (execution contexts, job tasks).

/** An environment variable, or the fallback when it is unset or outside the permission scope. */
export function envOr(name: string, fallback: string): string {
  try {
    return Deno.env.get(name) || fallback;
  } catch {
    return fallback;
  }
}

/**
 * The emulator's own environment minus its Databricks credentials and settings, plus extras. NO_COLOR
 * goes too: it is about dbxr's output, and tracebacks are ANSI-coloured on Databricks.
 */
export function childEnv(extra: Record<string, string> | undefined): Record<string, string> {
  let base: Record<string, string> = {};
  try {
    base = Deno.env.toObject();
  } catch { /* no env permission: the interpreter gets only the extras */ }
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (!/^(DATABRICKS_|DBXR_|NO_COLOR$)/i.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}
