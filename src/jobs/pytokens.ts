// A small Python tokenizer for `job check`: the binary may not run python3, and the rules only need
// names, strings, brackets and line numbers, not a full grammar. It never throws: whatever it does not
// understand becomes an "error" token, so a half-written script is still checked.
//
// Deliberate simplifications: INDENT/DEDENT are not emitted; NEWLINE marks the end of a logical line
// (not inside brackets, not after a backslash continuation); notebook magics (`%pip`, `%%sh`, `!ls`) at
// the start of a logical line become one MAGIC token, because a job file that holds them is still worth
// checking; f-strings are one opaque STRING token (their replacement fields are skipped, quotes included).

export type TokenKind = "name" | "number" | "string" | "op" | "comment" | "magic" | "newline" | "error";

export interface Token {
  kind: TokenKind;
  /** The token as written; for a dotted name, its parts joined by "." without the whitespace. */
  text: string;
  /** Offsets into the source, end exclusive. */
  start: number;
  end: number;
  /** 1-based line and column (columns count UTF-16 code units, as editors do). */
  line: number;
  column: number;
  endLine: number;
  /** name: the parts of a dotted name (`mlflow.langchain.log_model` → three parts). */
  parts?: string[];
  /** string: the prefix, lower-cased ("", "f", "rb", …). */
  prefix?: string;
  /** string: the text between the quotes, escapes decoded unless the string is raw or an f-string. */
  value?: string;
  /** string: the closing quote is missing. */
  unterminated?: boolean;
}

/** Python's hard keywords: never part of a dotted name, never a callee. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  "False",
  "None",
  "True",
  "and",
  "as",
  "assert",
  "async",
  "await",
  "break",
  "class",
  "continue",
  "def",
  "del",
  "elif",
  "else",
  "except",
  "finally",
  "for",
  "from",
  "global",
  "if",
  "import",
  "in",
  "is",
  "lambda",
  "nonlocal",
  "not",
  "or",
  "pass",
  "raise",
  "return",
  "try",
  "while",
  "with",
  "yield",
]);

const OPERATORS = [
  "**=",
  "//=",
  ">>=",
  "<<=",
  "...",
  "->",
  ":=",
  "==",
  "!=",
  "<=",
  ">=",
  "**",
  "//",
  "<<",
  ">>",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "@=",
  ..."()[]{},:;.+-*/%&|^~<>=@!",
];
const OPENERS = new Set(["(", "[", "{"]);
const CLOSERS = new Set([")", "]", "}"]);

const NAME_RE = /[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*/uy;
const NUMBER_RE =
  /0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?/y;
// A string prefix is at most two letters from this set, directly followed by a quote.
const STRING_START_RE = /([rRbBuUfFtT]{0,2})("""|'''|"|')/y;

/** Maps offsets to 1-based line/column pairs. */
class Positions {
  #lineStarts: number[] = [0];

  constructor(source: string) {
    for (let i = 0; i < source.length; i++) if (source[i] === "\n") this.#lineStarts.push(i + 1);
  }

  at(offset: number): { line: number; column: number } {
    let lo = 0, hi = this.#lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.#lineStarts[lo] + 1 };
  }
}

export function tokenize(source: string): Token[] {
  const pos = new Positions(source);
  const raw: Token[] = [];
  let depth = 0;
  let i = 0;

  const push = (kind: TokenKind, start: number, end: number, extra: Partial<Token> = {}) => {
    const a = pos.at(start);
    raw.push({
      kind,
      text: source.slice(start, end),
      start,
      end,
      line: a.line,
      column: a.column,
      endLine: pos.at(Math.max(start, end - 1)).line,
      ...extra,
    });
  };
  const atLogicalLineStart = () => {
    for (let k = raw.length - 1; k >= 0; k--) {
      if (raw[k].kind === "comment") continue;
      return raw[k].kind === "newline" || raw[k].kind === "magic";
    }
    return true;
  };

  while (i < source.length) {
    const c = source[i];
    if (c === " " || c === "\t" || c === "\f" || c === "\r") {
      i++;
      continue;
    }
    if (c === "\n") {
      // Only the end of a non-empty logical line is a NEWLINE; blank and comment-only lines are not.
      if (depth === 0 && !atLogicalLineStart()) push("newline", i, i + 1);
      i++;
      continue;
    }
    if (c === "\\" && (source[i + 1] === "\n" || (source[i + 1] === "\r" && source[i + 2] === "\n"))) {
      i += source[i + 1] === "\n" ? 2 : 3; // explicit line joining
      continue;
    }
    if (c === "#") {
      const end = lineEnd(source, i);
      push("comment", i, end);
      i = end;
      continue;
    }
    if ((c === "%" || c === "!") && depth === 0 && atLogicalLineStart()) {
      const end = magicEnd(source, i);
      push("magic", i, end);
      i = end;
      continue;
    }
    STRING_START_RE.lastIndex = i;
    const sm = STRING_START_RE.exec(source);
    if (sm && isStringPrefix(sm[1])) {
      const prefix = sm[1].toLowerCase();
      const quote = sm[2];
      const body = i + sm[0].length;
      const formatted = prefix.includes("f") || prefix.includes("t");
      const { end, closed } = scanString(source, body, quote, formatted, prefix.includes("r"));
      const inner = source.slice(body, closed ? end - quote.length : end);
      push("string", i, end, {
        prefix,
        value: formatted || prefix.includes("r") ? inner : decodeEscapes(inner),
        ...(closed ? {} : { unterminated: true }),
      });
      i = end;
      continue;
    }
    NAME_RE.lastIndex = i;
    const nm = NAME_RE.exec(source);
    if (nm) {
      push("name", i, i + nm[0].length, { parts: [nm[0]] });
      i += nm[0].length;
      continue;
    }
    NUMBER_RE.lastIndex = i;
    const num = NUMBER_RE.exec(source);
    if (num && num[0].length > 0 && num[0] !== ".") {
      push("number", i, i + num[0].length);
      i += num[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op) {
      if (OPENERS.has(op)) depth++;
      else if (CLOSERS.has(op)) depth = Math.max(0, depth - 1);
      push("op", i, i + op.length);
      i += op.length;
      continue;
    }
    push("error", i, i + 1);
    i++;
  }
  if (raw.length > 0 && !atLogicalLineStart()) push("newline", source.length, source.length);
  return mergeDottedNames(raw);
}

function isStringPrefix(p: string): boolean {
  const l = p.toLowerCase();
  return ["", "r", "u", "b", "f", "t", "br", "rb", "fr", "rf", "tr", "rt"].includes(l);
}

function lineEnd(source: string, i: number): number {
  const nl = source.indexOf("\n", i);
  return nl === -1 ? source.length : nl;
}

/** A magic line runs to the end of the line, continued by a trailing backslash (`%pip install a \`). */
function magicEnd(source: string, i: number): number {
  let end = lineEnd(source, i);
  while (end < source.length && source.slice(i, end).trimEnd().endsWith("\\")) end = lineEnd(source, end + 1);
  return end;
}

/**
 * Scans a string body from `i` (just after the opening quote) to just after the closing quote. In an
 * f-string the replacement fields are skipped as code, so `f"{d["k"]}"` (Python 3.12) stays one token.
 * A single-quoted string that reaches the end of the line is unterminated and ends there.
 */
function scanString(
  source: string,
  i: number,
  quote: string,
  formatted: boolean,
  raw: boolean,
): { end: number; closed: boolean } {
  const triple = quote.length === 3;
  while (i < source.length) {
    const c = source[i];
    if (c === "\\" && !raw) {
      i += 2;
      continue;
    }
    if (c === "\\" && raw) {
      // In a raw string a backslash still keeps the next quote from closing it.
      i += source[i + 1] === quote[0] || source[i + 1] === "\\" ? 2 : 1;
      continue;
    }
    if (source.startsWith(quote, i)) return { end: i + quote.length, closed: true };
    if (c === "\n" && !triple) return { end: i, closed: false };
    if (formatted && c === "{") {
      if (source[i + 1] === "{") {
        i += 2;
        continue;
      }
      i = skipReplacementField(source, i + 1);
      continue;
    }
    i++;
  }
  return { end: source.length, closed: false };
}

/** Skips an f-string replacement field's code (from just after `{`) to just after its closing `}`. */
function skipReplacementField(source: string, i: number): number {
  let depth = 0;
  while (i < source.length) {
    const c = source[i];
    STRING_START_RE.lastIndex = i;
    const sm = STRING_START_RE.exec(source);
    if (sm && isStringPrefix(sm[1]) && (sm[1] === "" || !/[\p{L}\p{Nd}_]/u.test(source[i - 1] ?? ""))) {
      const p = sm[1].toLowerCase();
      i =
        scanString(source, i + sm[0].length, sm[2], p.includes("f") || p.includes("t"), p.includes("r")).end;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === "}") {
      if (depth === 0) return i + 1;
      depth--;
    }
    i++;
  }
  return source.length;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  n: "\n",
  t: "\t",
  r: "\r",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "0": "\0",
  "\n": "",
};

/** The common escapes; anything else (\N{…}, octal) is kept as written, which is enough for paths. */
function decodeEscapes(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[\s\S])/g, (all, e: string) => {
    if (e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
    return SIMPLE_ESCAPES[e] ?? all;
  });
}

/** `a . b . c` → one name token `a.b.c`; keywords never join (`from . import x`). */
function mergeDottedNames(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind !== "name" || KEYWORDS.has(t.text)) {
      out.push(t);
      continue;
    }
    const parts = [t.text];
    let last = t;
    while (
      tokens[k + 1]?.kind === "op" && tokens[k + 1].text === "." &&
      tokens[k + 2]?.kind === "name" && !KEYWORDS.has(tokens[k + 2].text)
    ) {
      last = tokens[k + 2];
      parts.push(last.text);
      k += 2;
    }
    out.push(
      parts.length === 1 ? t : {
        ...t,
        text: parts.join("."),
        end: last.end,
        endLine: last.endLine,
        parts,
      },
    );
  }
  return out;
}
