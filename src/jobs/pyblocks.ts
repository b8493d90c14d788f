// Block structure for the rules that care about where code sits and when it runs: function definitions
// (with their parameters and extent), `try:` bodies, and the order in which calls execute when a script
// runs top to bottom and calls its own functions. The tokenizer emits no INDENT/DEDENT, so a block is read
// off the column of each statement's first token.

import { bracketItems, codeTokens, type PyCall, statements } from "./pycalls.ts";
import type { Token } from "./pytokens.ts";

export interface PyDef {
  name: string;
  /** Line of `def`. */
  line: number;
  /** Last line of the body. */
  endLine: number;
  indent: number;
  /** Parameter names in order (`self` included), and each one's annotation text (may be ""). */
  params: Array<{ name: string; annotation: string }>;
}

export interface PyTry {
  /** Line of `try`. */
  line: number;
  /** Last line of the try body (the handlers are not part of it). */
  endLine: number;
}

export interface PyBlocks {
  defs: PyDef[];
  tries: PyTry[];
}

export function blocksOf(tokens: Token[]): PyBlocks {
  const defs: PyDef[] = [];
  const tries: PyTry[] = [];
  const open: Array<{ indent: number; def?: PyDef; try?: PyTry; last: number }> = [];
  const close = (upTo: number) => {
    while (open.length > 0 && open[open.length - 1].indent >= upTo) {
      const b = open.pop()!;
      if (b.def) b.def.endLine = b.last;
      if (b.try) b.try.endLine = b.last;
      if (open.length > 0) open[open.length - 1].last = Math.max(open[open.length - 1].last, b.last);
    }
  };
  for (const st of statements(codeTokens(tokens))) {
    const head = st[0];
    const end = st[st.length - 1].endLine;
    close(head.column);
    for (const b of open) b.last = Math.max(b.last, end);
    const k = head.text === "async" ? 1 : 0;
    if (st[k]?.text === "def" && st[k + 1]?.kind === "name") {
      const def: PyDef = {
        name: st[k + 1].text,
        line: head.line,
        endLine: end,
        indent: head.column,
        params: paramsOf(st.slice(k + 2)),
      };
      defs.push(def);
      open.push({ indent: head.column, def, last: end });
    } else if (head.text === "try" && st[1]?.text === ":") {
      const t: PyTry = { line: head.line, endLine: end };
      tries.push(t);
      open.push({ indent: head.column, try: t, last: end });
    }
  }
  close(0);
  return { defs, tries };
}

function paramsOf(tokens: Token[]): PyDef["params"] {
  if (tokens[0]?.text !== "(") return [];
  return bracketItems(tokens, 0).items.flatMap((cur) => {
    let i = 0;
    while (cur[i]?.text === "*" || cur[i]?.text === "**") i++;
    const name = cur[i];
    if (name?.kind !== "name") return [];
    const colon = cur.findIndex((t) => t.text === ":");
    const eq = cur.findIndex((t) => t.text === "=");
    const ann = colon < 0 ? [] : cur.slice(colon + 1, eq > colon ? eq : undefined);
    return [{ name: name.text, annotation: ann.map((t) => t.text).join("") }];
  });
}

/** The innermost function whose body holds this line, if any. */
export function enclosingDef(blocks: PyBlocks, line: number): PyDef | undefined {
  return blocks.defs.filter((d) => d.line < line && line <= d.endLine)
    .sort((a, b) => b.line - a.line)[0];
}

/** The outermost function whose body holds this line, if any. */
export function outermostDef(blocks: PyBlocks, line: number): PyDef | undefined {
  return blocks.defs.filter((d) => d.line < line && line <= d.endLine).sort((a, b) => a.line - b.line)[0];
}

/** A time in a run: the (line, column) of each call on the way, outermost first. Compared in order. */
export type ExecTime = Array<[number, number]>;

export function compareTimes(a: ExecTime, b: ExecTime): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = a[i][0] - b[i][0] || a[i][1] - b[i][1];
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * When the code at (line, column) runs, as far as a top-to-bottom reading can tell: module-level code
 * (also inside `if __name__ == "__main__":`) runs in source order; a function body runs where the script
 * calls the function by name. Undefined when no call of the function is known (a callback, a framework,
 * a method): then the order cannot be told. The earliest time wins when there are several.
 */
export function execTime(
  blocks: PyBlocks,
  calls: readonly PyCall[],
  line: number,
  column: number,
  depth = 0,
): ExecTime | undefined {
  const def = enclosingDef(blocks, line);
  if (!def) return [[line, column]];
  if (depth > 8) return undefined;
  const times = calls
    .filter((c) => c.callee === def.name && !c.onExpression && !(def.line <= c.line && c.line <= def.endLine))
    .flatMap((c) => {
      const t = execTime(blocks, calls, c.line, c.column, depth + 1);
      return t ? [[...t, [line, column]] as ExecTime] : [];
    });
  return times.sort(compareTimes)[0];
}
