// JSON.parse for a large (or unsized) response body, piece by piece as it arrives: the body is never held
// whole, neither as bytes nor as text. Strings are unescaped on the fly and decoded once; a string that is
// only ever written to a file (a command's output, `bytesAt`) is not decoded at all: it stays its UTF-8
// bytes (Utf8Chunks), its one copy in memory. A 20 MiB output is then 20 MiB in memory, whether or not
// the body came compressed.
// Same values as JSON.parse(new TextDecoder().decode(body)), for any split of the body into pieces, except
// that an escaped lone surrogate (`"\ud800"`) becomes U+FFFD, as it would anyway in a UTF-8 file. Pure.

import { Utf8Chunks, Utf8Validator } from "../utf8.ts";

export interface JsonStreamOptions {
  /**
   * Key paths (e.g. `["results", "data"]`) whose string value is given as Utf8Chunks, not decoded; only
   * when its bytes are well-formed UTF-8, so that writing them gives the file that writing the decoded
   * string would. Broken UTF-8 is decoded (U+FFFD) as everywhere else.
   */
  bytesAt?: readonly (readonly string[])[];
}

// What the parser expects next.
const VALUE = 0, // a value (after whitespace)
  AFTER_VALUE = 1, // whitespace, then `,` or the end of the container (or nothing, at the top)
  KEY_OR_END = 2, // after `{`
  KEY = 3, // after `,` in an object
  COLON = 4,
  ELEMENT_OR_END = 5, // after `[`
  STRING = 6,
  ESCAPE = 7, // after a backslash
  UNICODE = 8, // inside `\uXXXX`
  NUMBER = 9,
  LITERAL = 10, // inside true, false, null
  BOM = 11; // inside a leading byte order mark

const QUOTE = 0x22, BACKSLASH = 0x5c;

const SIMPLE_ESCAPES: Record<number, number> = {
  0x22: 0x22, // \"
  0x5c: 0x5c, // \\
  0x2f: 0x2f, // \/
  0x62: 0x08, // \b
  0x66: 0x0c, // \f
  0x6e: 0x0a, // \n
  0x72: 0x0d, // \r
  0x74: 0x09, // \t
};

/** SIMPLE_ESCAPES as a table for the hot loop: the byte an escape letter stands for, or -1. */
const ESCAPED = new Int16Array(256).fill(-1);
for (const [k, v] of Object.entries(SIMPLE_ESCAPES)) ESCAPED[Number(k)] = v;

const NUMBER_CHARS = /^[-+.eE0-9]$/;
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** A string's bytes first go to a reused buffer of this size; past it, to pieces of SEGMENT bytes. */
const SCRATCH = 64 * 1024;
const SEGMENT = 1024 * 1024;

type Container = Record<string, unknown> | unknown[];

/** Feed it the body's pieces with push(), then end() gives the value; both throw a SyntaxError on bad JSON. */
export class JsonStreamParser {
  readonly #bytesAt: readonly (readonly string[])[];
  #state = VALUE;
  #offset = 0; // of the current piece in the body, for error positions
  #started = false;
  #sawToken = false;
  #done = false;
  #root: unknown = undefined;
  readonly #stack: Container[] = [];
  /** Per open container, the key of the member being parsed (null in an array). */
  readonly #keys: (string | null)[] = [];

  // The string being parsed.
  #isKey = false;
  #asBytes = false;
  #scratch = new Uint8Array(SCRATCH);
  #segments: Uint8Array[] = [];
  #cur = this.#scratch;
  #pos = 0;
  #hex = 0;
  #hexDigits = 0;
  #pendingHigh = -1; // an escaped high surrogate waiting for its low half

  // A number or literal in progress.
  #token = "";
  #literal = "";
  #literalValue: unknown = null;

  constructor(opts: JsonStreamOptions = {}) {
    this.#bytesAt = opts.bytesAt ?? [];
  }

  push(b: Uint8Array): void {
    const n = b.length;
    let i = 0;
    const fail = (): never => {
      throw new SyntaxError(`Unexpected token in JSON at position ${this.#offset + i}`);
    };
    while (i < n) {
      const c = b[i];
      switch (this.#state) {
        case STRING: {
          if (this.#pendingHigh < 0) {
            const j = this.#plainRun(b, i);
            if (j > i) {
              i = j;
              continue;
            }
          }
          // What the hot loop leaves: the closing quote, a \u escape, an escape cut by the piece's end,
          // a control character, and what follows an escaped high surrogate.
          let j = i;
          while (j < n) {
            const x = b[j];
            if (x === QUOTE || x === BACKSLASH || x < 0x20) break;
            j++;
          }
          if (j > i) {
            this.#flushHigh();
            this.#append(b, i, j);
            i = j;
            continue;
          }
          if (c === QUOTE) {
            this.#flushHigh();
            i++;
            this.#endString();
          } else if (c === BACKSLASH) {
            i++;
            this.#state = ESCAPE;
          } else fail(); // a raw control character
          continue;
        }
        case ESCAPE: {
          if (c === 0x75) {
            this.#hex = 0;
            this.#hexDigits = 0;
            this.#state = UNICODE;
          } else {
            const simple = SIMPLE_ESCAPES[c];
            if (simple === undefined) fail();
            this.#flushHigh();
            this.#byte(simple);
            this.#state = STRING;
          }
          i++;
          continue;
        }
        case UNICODE: {
          const d = c >= 0x30 && c <= 0x39
            ? c - 0x30
            : c >= 0x61 && c <= 0x66
            ? c - 0x57
            : c >= 0x41 && c <= 0x46
            ? c - 0x37
            : -1;
          if (d < 0) fail();
          this.#hex = this.#hex * 16 + d;
          i++;
          if (++this.#hexDigits === 4) {
            this.#codeUnit(this.#hex);
            this.#state = STRING;
          }
          continue;
        }
        case NUMBER: {
          if (c < 0x80 && NUMBER_CHARS.test(String.fromCharCode(c))) {
            this.#token += String.fromCharCode(c);
            i++;
          } else {
            this.#endNumber(fail); // the byte that ended it is read again, after the value
          }
          continue;
        }
        case LITERAL: {
          if (c !== this.#literal.charCodeAt(this.#token.length)) fail();
          this.#token += this.#literal[this.#token.length];
          i++;
          if (this.#token.length === this.#literal.length) this.#value(this.#literalValue);
          continue;
        }
        case BOM: {
          if (c !== (this.#token.length === 1 ? 0xbb : 0xbf)) fail();
          this.#token += " ";
          i++;
          if (this.#token.length === 3) this.#state = VALUE;
          continue;
        }
      }
      // The structural states: whitespace first.
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        this.#started = true;
        i++;
        continue;
      }
      switch (this.#state) {
        case VALUE: {
          if (c === 0xef && !this.#started) {
            // As TextDecoder: a byte order mark before the body is dropped.
            this.#token = " ";
            this.#state = BOM;
          } else {
            this.#sawToken = true;
            if (c === 0x7b) this.#open({}, KEY_OR_END);
            else if (c === 0x5b) this.#open([], ELEMENT_OR_END);
            else if (c === QUOTE) {
              const asBytes = this.#bytesAt.length > 0 && this.#wantsBytes();
              this.#startString(false, asBytes);
            } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
              this.#token = String.fromCharCode(c);
              this.#state = NUMBER;
            } else if (c === 0x74) this.#startLiteral("true", true);
            else if (c === 0x66) this.#startLiteral("false", false);
            else if (c === 0x6e) this.#startLiteral("null", null);
            else fail();
          }
          this.#started = true;
          i++;
          continue;
        }
        case AFTER_VALUE: {
          const top = this.#stack.at(-1);
          if (top === undefined) fail(); // something after the whole value
          const isArray = Array.isArray(top);
          if (c === 0x2c) this.#state = isArray ? VALUE : KEY;
          else if (c === (isArray ? 0x5d : 0x7d)) this.#close();
          else fail();
          i++;
          continue;
        }
        case KEY_OR_END:
        case KEY: {
          if (c === QUOTE) this.#startString(true, false);
          else if (c === 0x7d && this.#state === KEY_OR_END) this.#close();
          else fail();
          i++;
          continue;
        }
        case COLON: {
          if (c !== 0x3a) fail();
          this.#state = VALUE;
          i++;
          continue;
        }
        case ELEMENT_OR_END: {
          if (c === 0x5d) {
            this.#close();
            i++;
          } else this.#state = VALUE; // read again as the first element
          continue;
        }
      }
    }
    this.#offset += n;
  }

  /** Nothing but whitespace (and a byte order mark) so far: what http.ts calls an empty body. */
  get blank(): boolean {
    return !this.#sawToken && this.#state !== BOM;
  }

  end(): unknown {
    if (this.#state === NUMBER) {
      this.#endNumber(() => {
        throw new SyntaxError(`Unexpected end of JSON input`);
      });
    }
    if (!this.#done || this.#state !== AFTER_VALUE || this.#stack.length > 0) {
      throw new SyntaxError("Unexpected end of JSON input");
    }
    return this.#root;
  }

  #wantsBytes(): boolean {
    const keys = this.#keys;
    return this.#bytesAt.some((p) => p.length === keys.length && p.every((k, d) => k === keys[d]));
  }

  #open(c: Container, state: number): void {
    this.#stack.push(c);
    this.#keys.push(null);
    this.#state = state;
  }

  #close(): void {
    const c = this.#stack.pop();
    this.#keys.pop();
    this.#value(c);
  }

  /** A value is complete: into its container, or it is the whole body. */
  #value(v: unknown): void {
    this.#state = AFTER_VALUE;
    const top = this.#stack.at(-1);
    if (top === undefined) {
      this.#root = v;
      this.#done = true;
    } else if (Array.isArray(top)) top.push(v);
    else {
      const k = this.#keys[this.#keys.length - 1]!;
      // As JSON.parse: an own property, even one named __proto__.
      if (k === "__proto__") {
        Object.defineProperty(top, k, { value: v, writable: true, enumerable: true, configurable: true });
      } else top[k] = v;
    }
  }

  #startLiteral(word: string, v: unknown): void {
    this.#literal = word;
    this.#literalValue = v;
    this.#token = word[0];
    this.#state = LITERAL;
  }

  #endNumber(fail: () => never): void {
    if (!JSON_NUMBER.test(this.#token)) fail();
    this.#value(Number(this.#token));
  }

  #startString(isKey: boolean, asBytes: boolean): void {
    this.#isKey = isKey;
    this.#asBytes = asBytes;
    this.#pendingHigh = -1;
    this.#state = STRING;
  }

  #endString(): void {
    const last = this.#cur.subarray(0, this.#pos);
    let v: string | Utf8Chunks;
    if (this.#segments.length === 0 && !this.#asBytes) v = decode([last]);
    else {
      const pieces = [...this.#segments, this.#cur === this.#scratch ? last.slice() : last]
        .filter((p) => p.length > 0);
      v = this.#asBytes && wellFormed(pieces) ? new Utf8Chunks(pieces) : decode(pieces);
    }
    this.#segments = [];
    this.#cur = this.#scratch;
    this.#pos = 0;
    if (this.#isKey) {
      this.#keys[this.#keys.length - 1] = v as string;
      this.#state = COLON;
    } else this.#value(v);
  }

  /**
   * The hot loop: plain bytes and the simple escapes of a string, copied byte by byte with the state in
   * locals; returns where it stopped (anything else is left to the state machine).
   */
  #plainRun(b: Uint8Array, i: number): number {
    const n = b.length;
    let cur = this.#cur, pos = this.#pos;
    while (i < n) {
      const c = b[i];
      if (c !== QUOTE && c !== BACKSLASH && c >= 0x20) {
        let j = i + 1;
        while (j < n) {
          const x = b[j];
          if (x === QUOTE || x === BACKSLASH || x < 0x20) break;
          j++;
        }
        if (j - i >= 32 || pos + (j - i) > cur.length) {
          // A long run (or one that fills the piece): copied in one go.
          this.#pos = pos;
          this.#append(b, i, j);
          cur = this.#cur;
          pos = this.#pos;
          i = j;
        } else while (i < j) cur[pos++] = b[i++];
        continue;
      }
      if (c !== BACKSLASH || i + 1 >= n) break;
      const e = ESCAPED[b[i + 1]];
      if (e < 0) break;
      if (pos === cur.length) {
        this.#pos = pos;
        this.#spill();
        cur = this.#cur;
        pos = 0;
      }
      cur[pos++] = e;
      i += 2;
    }
    this.#pos = pos;
    return i;
  }

  #spill(): void {
    this.#segments.push(this.#cur === this.#scratch ? this.#scratch.slice() : this.#cur);
    this.#cur = new Uint8Array(SEGMENT);
    this.#pos = 0;
  }

  #append(b: Uint8Array, from: number, to: number): void {
    while (from < to) {
      if (this.#pos === this.#cur.length) this.#spill();
      const k = Math.min(to - from, this.#cur.length - this.#pos);
      this.#cur.set(b.subarray(from, from + k), this.#pos);
      this.#pos += k;
      from += k;
    }
  }

  #byte(x: number): void {
    if (this.#pos === this.#cur.length) this.#spill();
    this.#cur[this.#pos++] = x;
  }

  /** A `\uXXXX` escape: a surrogate pair makes one code point; a lone surrogate becomes U+FFFD. */
  #codeUnit(u: number): void {
    if (this.#pendingHigh >= 0) {
      if (u >= 0xdc00 && u <= 0xdfff) {
        this.#codePoint(0x10000 + ((this.#pendingHigh - 0xd800) << 10) + (u - 0xdc00));
        this.#pendingHigh = -1;
        return;
      }
      this.#flushHigh();
    }
    if (u >= 0xd800 && u <= 0xdbff) this.#pendingHigh = u;
    else this.#codePoint(u >= 0xdc00 && u <= 0xdfff ? 0xfffd : u);
  }

  /** A high surrogate not followed by its low half. */
  #flushHigh(): void {
    if (this.#pendingHigh < 0) return;
    this.#pendingHigh = -1;
    this.#codePoint(0xfffd);
  }

  #codePoint(cp: number): void {
    if (cp < 0x80) this.#byte(cp);
    else if (cp < 0x800) {
      this.#byte(0xc0 | (cp >> 6));
      this.#byte(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      this.#byte(0xe0 | (cp >> 12));
      this.#byte(0x80 | ((cp >> 6) & 0x3f));
      this.#byte(0x80 | (cp & 0x3f));
    } else {
      this.#byte(0xf0 | (cp >> 18));
      this.#byte(0x80 | ((cp >> 12) & 0x3f));
      this.#byte(0x80 | ((cp >> 6) & 0x3f));
      this.#byte(0x80 | (cp & 0x3f));
    }
  }
}

function wellFormed(pieces: Uint8Array[]): boolean {
  const v = new Utf8Validator();
  for (const p of pieces) if (!v.push(p)) return false;
  return v.end();
}

/** Decodes as TextDecoder would decode the pieces joined; a string's own leading U+FEFF is kept. */
function decode(pieces: Uint8Array[]): string {
  const d = new TextDecoder("utf-8", { ignoreBOM: true });
  if (pieces.length === 1) return d.decode(pieces[0]);
  let s = "";
  for (const p of pieces) s += d.decode(p, { stream: true });
  return s + d.decode();
}

export type JsonRead =
  | { value: unknown }
  | { empty: true }
  | { error: SyntaxError; head: Uint8Array };

/**
 * Reads and parses a response body piece by piece, through one reused buffer. A body of only whitespace is
 * `empty`; bad JSON is `error`, with the body's first bytes for the message. `headBytes` of the body are
 * kept in any case, for --debug traces: `onHead` gets them and the body's size. Errors of the stream itself
 * (a dropped connection) are thrown.
 */
export async function readJsonStream(
  body: ReadableStream<Uint8Array> | null,
  opts: JsonStreamOptions & { headBytes: number; onHead?: (head: Uint8Array, total: number) => void },
): Promise<JsonRead> {
  const parser = new JsonStreamParser(opts);
  const head = new Uint8Array(opts.headBytes);
  let headLen = 0;
  let total = 0;
  let error: SyntaxError | undefined;
  if (body) {
    let reader: ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array>;
    try {
      reader = body.getReader({ mode: "byob" });
    } catch {
      reader = body.getReader(); // not a byte stream (a test's Response)
    }
    let buf = new Uint8Array(256 * 1024);
    try {
      while (true) {
        const { done, value } = reader instanceof ReadableStreamBYOBReader
          ? await reader.read(buf)
          : await reader.read();
        if (value && value.length > 0) {
          total += value.length;
          if (headLen < head.length) {
            const part = value.subarray(0, head.length - headLen);
            head.set(part, headLen);
            headLen += part.length;
          }
          if (!error) {
            try {
              parser.push(value);
            } catch (e) {
              if (!(e instanceof SyntaxError)) throw e;
              error = e;
            }
          }
          // The read moved the buffer into the view it answers with (zero-copy transfer): reuse it.
          if (reader instanceof ReadableStreamBYOBReader) buf = new Uint8Array(value.buffer as ArrayBuffer);
        }
        // Bad JSON: read on only as far as the head, for the message.
        if (done || (error && headLen >= Math.min(head.length, 200))) break;
      }
    } finally {
      if (error) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }
  const kept = head.subarray(0, headLen);
  opts.onHead?.(kept, total);
  if (error) return { error, head: kept };
  if (parser.blank) return { empty: true };
  try {
    return { value: parser.end() };
  } catch (e) {
    return { error: e as SyntaxError, head: kept };
  }
}
