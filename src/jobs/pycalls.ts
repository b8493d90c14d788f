// The few syntactic facts that the preflight rules need, read off the token stream of pytokens.ts:
// calls (callee, arguments), imports, name usages, simple assignments, and /Workspace/ path strings.
// Pure and forgiving: an unbalanced bracket ends the call at the end of the file, never an exception.

import { KEYWORDS, type Token, tokenize } from "./pytokens.ts";

export interface PyArg {
  /** The keyword of a keyword argument (`signature=`), absent for positional ones. */
  keyword?: string;
  /** `*args` or `**kwargs` spread. */
  star?: "*" | "**";
  /** The argument's source text, without the keyword (may span lines). */
  text: string;
  line: number;
  column: number;
  /** The argument's own tokens (after `kw=` or the star), for rules that look inside it. */
  tokens: Token[];
}

export interface PyCall {
  /** The dotted name as written: `mlflow.langchain.log_model`, `ToolNode`, `sys.path.insert`. */
  callee: string;
  /** The callee follows a `.` on an expression (`foo().bar(…)`, `"x".join(…)`): callee is just `bar`. */
  onExpression: boolean;
  line: number;
  column: number;
  endLine: number;
  args: PyArg[];
  /** Keyword argument names in order. */
  keywords: string[];
  /** The text of the first positional argument, if any. */
  firstArg?: string;
  /** A `**kwargs` spread is present, so any keyword may be passed without being visible. */
  hasKwargsSpread: boolean;
}

export interface PyImport {
  kind: "import" | "from" | "dynamic";
  /** The imported module: `a.b` for `import a.b` and `from a.b import c`; "" for `from . import x`. */
  module: string;
  /** Relative import level: the number of leading dots. */
  level: number;
  /** For `from m import a, b as c`: [{name: "a"}, {name: "b", alias: "c"}]; `*` is a name too. */
  names: Array<{ name: string; alias?: string }>;
  /** For `import a.b as c`: "c". */
  alias?: string;
  line: number;
  column: number;
}

export interface PyAssignment {
  /** The assigned name (a single target; tuple targets are not tracked). */
  target: string;
  line: number;
  column: number;
  /** The value's tokens (up to the end of the logical line). */
  value: Token[];
  text: string;
}

export interface PyStringConst {
  value: string;
  line: number;
  column: number;
  /** An f-string: the value still holds its `{…}` fields. */
  formatted: boolean;
}

/** Everything the rules read from one file, computed once. */
export interface PyModule {
  source: string;
  tokens: Token[];
  calls: PyCall[];
  imports: PyImport[];
  assignments: PyAssignment[];
}

export function parseModule(source: string): PyModule {
  const tokens = tokenize(source);
  const calls = findCalls(tokens, source);
  return {
    source,
    tokens,
    calls,
    imports: findImports(tokens, calls),
    assignments: findAssignments(tokens, source),
  };
}

/** Tokens that carry code: comments and magics are dropped, so they never shift what "next" means. */
export function codeTokens(tokens: Token[]): Token[] {
  return tokens.filter((t) => t.kind !== "comment" && t.kind !== "magic");
}

const isOp = (t: Token | undefined, text: string) => t?.kind === "op" && t.text === text;

/** Every call `name(…)`, nested ones included, in source order. `def f(…)` and `class C(…)` are not calls. */
export function findCalls(allTokens: Token[], source: string): PyCall[] {
  const tokens = codeTokens(allTokens);
  const calls: PyCall[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== "name" || KEYWORDS.has(t.text) || !isOp(tokens[i + 1], "(")) continue;
    const prev = tokens[i - 1];
    if (prev?.kind === "name" && (prev.text === "def" || prev.text === "class")) continue;
    const { args, close } = splitArgs(tokens, i + 1, source);
    const positional = args.filter((a) => !a.keyword && !a.star);
    calls.push({
      callee: t.text,
      onExpression: isOp(prev, "."),
      line: t.line,
      column: t.column,
      endLine: tokens[close]?.endLine ?? t.endLine,
      args,
      keywords: args.flatMap((a) => a.keyword ? [a.keyword] : []),
      ...(positional.length > 0 ? { firstArg: positional[0].text } : {}),
      hasKwargsSpread: args.some((a) => a.star === "**"),
    });
  }
  return calls;
}

/** Splits the arguments of the call whose `(` is at `open`; returns them and the index of `)`. */
function splitArgs(tokens: Token[], open: number, source: string): { args: PyArg[]; close: number } {
  const { items, close } = bracketItems(tokens, open);
  return { args: items.map((seg) => toArg(seg, source)), close };
}

/**
 * The comma-separated items (non-empty, newlines dropped) of the bracket opened at `open`, and the index of
 * the bracket that closes it; nested brackets stay inside their item.
 */
export function bracketItems(tokens: Token[], open: number): { items: Token[][]; close: number } {
  const items: Token[][] = [];
  let depth = 0;
  let segment: Token[] = [];
  const flush = () => {
    if (segment.length > 0) items.push(segment);
    segment = [];
  };
  let k = open;
  for (; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind === "op" && "([{".includes(t.text)) {
      depth++;
      if (depth === 1) continue;
    } else if (t.kind === "op" && ")]}".includes(t.text)) {
      depth--;
      if (depth === 0) break;
    } else if (depth === 1 && isOp(t, ",")) {
      flush();
      continue;
    }
    if (t.kind !== "newline") segment.push(t);
  }
  flush();
  return { items, close: k };
}

function toArg(seg: Token[], source: string): PyArg {
  let body = seg;
  const arg: Partial<PyArg> = {};
  if (isOp(seg[0], "*") || isOp(seg[0], "**")) {
    arg.star = seg[0].text as "*" | "**";
    body = seg.slice(1);
  } else if (seg[0].kind === "name" && seg[0].parts?.length === 1 && isOp(seg[1], "=")) {
    arg.keyword = seg[0].text;
    body = seg.slice(2);
  }
  const first = body[0] ?? seg[seg.length - 1];
  const last = body[body.length - 1] ?? first;
  return {
    ...arg,
    text: body.length > 0 ? source.slice(first.start, last.end) : "",
    line: seg[0].line,
    column: seg[0].column,
    tokens: body,
  };
}

/** Splits code tokens into statements: logical lines, further split at `;` and after a block's `:`. */
export function statements(tokens: Token[]): Token[][] {
  const out: Token[][] = [];
  let cur: Token[] = [];
  let depth = 0;
  for (const t of codeTokens(tokens)) {
    if (t.kind === "op" && "([{".includes(t.text)) depth++;
    if (t.kind === "op" && ")]}".includes(t.text)) depth = Math.max(0, depth - 1);
    if (t.kind === "newline" || (depth === 0 && isOp(t, ";"))) {
      if (cur.length > 0) out.push(cur);
      cur = [];
      continue;
    }
    cur.push(t);
    // `try: import x` / `if ok: x = 1`: a compound header ends at its `:` when code follows on the line.
    if (depth === 0 && isOp(t, ":") && COMPOUND.has(cur[0].text)) {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

const COMPOUND = new Set(["if", "elif", "else", "try", "except", "finally", "for", "while", "with", "def"]);

/** `import …`, `from … import …`, and `importlib.import_module("x")` / `__import__("x")` with a literal. */
export function findImports(tokens: Token[], calls: PyCall[] = findCalls(tokens, "")): PyImport[] {
  const out: PyImport[] = [];
  for (const st of statements(tokens)) {
    const head = st[0];
    if (head.kind === "name" && head.text === "import") {
      for (const part of splitTop(st.slice(1), ",")) {
        const [mod, as, alias] = part;
        if (mod?.kind !== "name") continue;
        out.push({
          kind: "import",
          module: mod.text,
          level: 0,
          names: [],
          ...(as?.text === "as" && alias ? { alias: alias.text } : {}),
          line: head.line,
          column: head.column,
        });
      }
    } else if (head.kind === "name" && head.text === "from") {
      let k = 1;
      let level = 0;
      while (isOp(st[k], ".") || isOp(st[k], "...")) level += st[k++].text.length;
      const module = st[k]?.kind === "name" && st[k].text !== "import" ? st[k++].text : "";
      if (st[k]?.text !== "import") continue;
      const names = splitTop(st.slice(k + 1).filter((t) => !isOp(t, "(") && !isOp(t, ")")), ",")
        .flatMap(([n, as, alias]) =>
          n ? [{ name: n.text, ...(as?.text === "as" && alias ? { alias: alias.text } : {}) }] : []
        );
      out.push({ kind: "from", module, level, names, line: head.line, column: head.column });
    }
  }
  for (const c of calls) {
    if (c.callee !== "importlib.import_module" && c.callee !== "__import__") continue;
    const lit = c.args[0]?.tokens.length === 1 ? c.args[0].tokens[0] : undefined;
    if (lit?.kind !== "string" || lit.prefix?.includes("f")) continue;
    out.push({
      kind: "dynamic",
      module: lit.value ?? "",
      level: 0,
      names: [],
      line: c.line,
      column: c.column,
    });
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

function splitTop(tokens: Token[], sep: string): Token[][] {
  const out: Token[][] = [[]];
  for (const t of tokens) {
    if (isOp(t, sep)) out.push([]);
    else out[out.length - 1].push(t);
  }
  return out.filter((p) => p.length > 0);
}

/** `NAME = value` and `NAME: T = value` statements (the last target of `a = b = v` too). */
export function findAssignments(tokens: Token[], source: string): PyAssignment[] {
  const out: PyAssignment[] = [];
  for (const st of statements(tokens)) {
    const target = st[0];
    if (target.kind !== "name" || KEYWORDS.has(target.text)) continue;
    let k = 1;
    if (isOp(st[1], ":")) {
      // An annotation runs up to the `=` at bracket depth 0.
      let depth = 0;
      for (k = 2; k < st.length; k++) {
        if (st[k].kind === "op" && "([{".includes(st[k].text)) depth++;
        if (st[k].kind === "op" && ")]}".includes(st[k].text)) depth--;
        if (depth === 0 && isOp(st[k], "=")) break;
      }
    }
    if (!isOp(st[k], "=")) continue;
    let value = st.slice(k + 1);
    // Chained `a = b = v`: every name before the last `=` gets v.
    const targets = [target];
    while (value[0]?.kind === "name" && isOp(value[1], "=")) {
      targets.push(value[0]);
      value = value.slice(2);
    }
    if (value.length === 0) continue;
    const text = source.slice(value[0].start, value[value.length - 1].end);
    for (const t of targets) out.push({ target: t.text, line: t.line, column: t.column, value, text });
  }
  return out;
}

/** Uses of a global name (`__file__`), not attributes of the same name (`mod.__file__`), not strings. */
export function nameUsages(tokens: Token[], name: string): Token[] {
  const code = codeTokens(tokens);
  return code.filter((t, i) => t.kind === "name" && t.parts?.[0] === name && !isOp(code[i - 1], "."));
}

/** String constants that look like workspace paths (`/Workspace/…`), f-strings included. */
export function workspacePaths(tokens: Token[]): PyStringConst[] {
  return tokens.flatMap((t) =>
    t.kind === "string" && t.value !== undefined && isWorkspacePath(t.value)
      ? [{ value: t.value, line: t.line, column: t.column, formatted: Boolean(t.prefix?.match(/[ft]/)) }]
      : []
  );
}

export function isWorkspacePath(s: string): boolean {
  return /^\/Workspace(\/|$)/.test(s);
}

export function magicLines(tokens: Token[]): Token[] {
  return tokens.filter((t) => t.kind === "magic");
}
