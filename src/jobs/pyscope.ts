// What names mean in one Python file, as far as a linter without an interpreter can tell: import aliases
// (`from mlflow import pyfunc` makes `pyfunc.log_model` mean `mlflow.pyfunc.log_model`) and the strings a
// name was assigned (`LOCAL_DIR = "/tmp/agent"`, `agent_file = os.path.join(LOCAL_DIR, "agent.py")`).
// One scope per file; assignments anywhere count, which errs on the side of finding a path.

import type { PyCall, PyModule } from "./pycalls.ts";
import type { Token } from "./pytokens.ts";

export interface Scope {
  module: PyModule;
  /** Local name → the dotted path it stands for. */
  aliases: Map<string, string>;
  /** Name → the value tokens of each assignment to it, in source order. */
  values: Map<string, Token[][]>;
}

export function scopeOf(module: PyModule): Scope {
  const aliases = new Map<string, string>();
  for (const imp of module.imports) {
    if (imp.kind === "import" && imp.alias) aliases.set(imp.alias, imp.module);
    if (imp.kind === "from" && imp.level === 0) {
      for (const n of imp.names) {
        if (n.name !== "*") aliases.set(n.alias ?? n.name, `${imp.module}.${n.name}`);
      }
    }
  }
  const values = new Map<string, Token[][]>();
  for (const a of module.assignments) values.set(a.target, [...(values.get(a.target) ?? []), a.value]);
  return { module, aliases, values };
}

/** The callee with its first part resolved through the imports: `mf.pyfunc.log_model` → `mlflow.pyfunc.log_model`. */
export function qualify(scope: Scope, dotted: string): string {
  const [head, ...rest] = dotted.split(".");
  const target = scope.aliases.get(head);
  return target ? [target, ...rest].join(".") : dotted;
}

export function qualifiedCallee(scope: Scope, call: PyCall): string {
  return call.onExpression ? call.callee : qualify(scope, call.callee);
}

/**
 * Every string an expression may contain, following names to their assignments (`os.path.join(BASE,
 * "agent.py")` → BASE's strings and "agent.py"). F-strings have their `{NAME}` fields filled in where
 * NAME has one known value.
 */
export function stringsOf(scope: Scope, tokens: Token[], seen: Set<string> = new Set()): string[] {
  const out: string[] = [];
  for (const t of tokens) {
    if (t.kind === "string") out.push(stringValue(scope, t, seen) ?? t.value ?? "");
    else if (t.kind === "name" && t.parts?.length === 1 && !seen.has(t.text)) {
      const defs = scope.values.get(t.text);
      if (!defs) continue;
      const inner = new Set([...seen, t.text]);
      for (const d of defs) out.push(...stringsOf(scope, d, inner));
    }
  }
  return out;
}

/**
 * The one string an expression evaluates to, when that is knowable: a literal, a name with a single
 * such value, an f-string over such names, or `+` concatenations of those. Otherwise undefined.
 */
export function constString(
  scope: Scope,
  tokens: Token[],
  seen: Set<string> = new Set(),
): string | undefined {
  // Adjacent literals ("a" "b") are one string in Python; otherwise operands alternate with `+`.
  const adjacent = tokens.length > 1 && tokens.every((t) => t.kind === "string");
  const parts: string[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (k % 2 === 1 && !adjacent) {
      if (t.kind !== "op" || t.text !== "+") return undefined;
      continue;
    }
    const v = t.kind === "string"
      ? stringValue(scope, t, seen)
      : t.kind === "name" && t.parts?.length === 1
      ? nameValue(scope, t.text, seen)
      : undefined;
    if (v === undefined) return undefined;
    parts.push(v);
  }
  return parts.length > 0 ? parts.join("") : undefined;
}

function nameValue(scope: Scope, name: string, seen: Set<string>): string | undefined {
  const defs = scope.values.get(name);
  if (!defs || seen.has(name)) return undefined;
  const vals = new Set(defs.map((d) => constString(scope, d, new Set([...seen, name]))));
  return vals.size === 1 ? [...vals][0] : undefined;
}

function stringValue(scope: Scope, t: Token, seen: Set<string>): string | undefined {
  if (t.value === undefined) return undefined;
  if (!t.prefix?.match(/[ft]/)) return t.value;
  let ok = true;
  const filled = t.value.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (all, field: string | undefined) => {
    if (field === undefined) return all[0];
    const name = field.trim();
    const v = /^[\p{L}_][\p{L}\p{N}_]*$/u.test(name) ? nameValue(scope, name, seen) : undefined;
    if (v === undefined) ok = false;
    return v ?? all;
  });
  return ok ? filled : undefined;
}
