// JSON.parse for a large UTF-8 body, straight from its bytes. JSON.parse needs the body as a string: with the
// bytes it was decoded from and the strings it makes, a 20 MiB command output would be in memory three times.
// Here each string is unescaped in place (an escape is never shorter than what it stands for) and decoded
// once from its own bytes, so the body's bytes and the values made from them are the only two copies; and a
// string that is only ever written to a file (a command's output, `bytesAt`) is not decoded at all: it stays
// a view of the body's bytes, which are then its one copy.
// Same results as JSON.parse(new TextDecoder().decode(bytes)), except that an escaped lone surrogate
// (`"\ud800"`) becomes U+FFFD, as it would anyway once written to a UTF-8 file. The bytes are overwritten.

// ignoreBOM: a string that starts with U+FEFF keeps it, as with JSON.parse (only the body's own BOM goes).
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

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

export interface ParseJsonBytesOptions {
  /**
   * Key paths (e.g. `["results", "data"]`) whose string value is returned as its UTF-8 bytes (a view of
   * `bytes`, unescaped), not decoded; only when those bytes are well-formed UTF-8, so that writing them
   * gives the file that writing the decoded string would. Broken UTF-8 is decoded (U+FFFD) as elsewhere.
   */
  bytesAt?: readonly (readonly string[])[];
}

/** Parses `bytes` (UTF-8 JSON text); throws a SyntaxError when it is not JSON. Overwrites `bytes`. */
export function parseJsonBytes(bytes: Uint8Array, opts: ParseJsonBytesOptions = {}): unknown {
  const b = bytes;
  const n = b.length;
  const bytesAt = opts.bytesAt ?? [];
  // The keys from the root to the value being parsed (kept only when bytesAt is given; null for an array's
  // element, which no key path names).
  const path: (string | null)[] = [];
  const wantsBytes = () => bytesAt.some((p) => p.length === path.length && p.every((k, d) => k === path[d]));
  // A leading byte order mark is dropped, as TextDecoder drops it.
  let i = n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;

  const fail = (): never => {
    throw new SyntaxError(
      i >= n ? "Unexpected end of JSON input" : `Unexpected token in JSON at position ${i}`,
    );
  };
  const ws = () => {
    while (i < n) {
      const c = b[i];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const hex = (at: number): number => {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const c = b[at + k];
      const d = c >= 0x30 && c <= 0x39
        ? c - 0x30
        : c >= 0x61 && c <= 0x66
        ? c - 0x57
        : c >= 0x41 && c <= 0x46
        ? c - 0x37
        : -1;
      if (d < 0 || at + k >= n) {
        i = at + k;
        fail();
      }
      v = v * 16 + d;
    }
    return v;
  };

  function string(asBytes = false): string | Uint8Array {
    const start = ++i; // after the opening quote
    let w = -1; // where unescaped bytes go, once the first escape is seen
    while (true) {
      if (i >= n) fail();
      const c = b[i];
      if (c === QUOTE) break;
      if (c < 0x20) fail();
      if (c !== BACKSLASH) {
        if (w >= 0) b[w++] = c;
        i++;
        continue;
      }
      if (w < 0) w = i;
      const e = b[i + 1];
      const simple = SIMPLE_ESCAPES[e];
      if (simple !== undefined) {
        b[w++] = simple;
        i += 2;
        continue;
      }
      if (e !== 0x75) {
        i++;
        fail();
      }
      let cp = hex(i + 2);
      i += 6;
      if (cp >= 0xd800 && cp <= 0xdbff && b[i] === BACKSLASH && b[i + 1] === 0x75) {
        const low = hex(i + 2);
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          i += 6;
        }
      }
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // a lone surrogate has no UTF-8 form
      if (cp < 0x80) b[w++] = cp;
      else if (cp < 0x800) {
        b[w++] = 0xc0 | (cp >> 6);
        b[w++] = 0x80 | (cp & 0x3f);
      } else if (cp < 0x10000) {
        b[w++] = 0xe0 | (cp >> 12);
        b[w++] = 0x80 | ((cp >> 6) & 0x3f);
        b[w++] = 0x80 | (cp & 0x3f);
      } else {
        b[w++] = 0xf0 | (cp >> 18);
        b[w++] = 0x80 | ((cp >> 12) & 0x3f);
        b[w++] = 0x80 | ((cp >> 6) & 0x3f);
        b[w++] = 0x80 | (cp & 0x3f);
      }
    }
    const end = w < 0 ? i : w;
    i++; // the closing quote
    const view = b.subarray(start, end);
    return asBytes && isWellFormedUtf8(view) ? view : utf8.decode(view);
  }

  const digits = (): number => {
    const from = i;
    while (i < n && b[i] >= 0x30 && b[i] <= 0x39) i++;
    return i - from;
  };

  function number(): number {
    const from = i;
    if (b[i] === 0x2d) i++;
    if (b[i] === 0x30) i++;
    else if (digits() === 0) fail();
    if (b[i] === 0x2e) {
      i++;
      if (digits() === 0) fail();
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (digits() === 0) fail();
    }
    return Number(String.fromCharCode(...b.subarray(from, i)));
  }

  function literal<T>(word: string, v: T): T {
    for (let k = 0; k < word.length; k++) {
      if (b[i + k] !== word.charCodeAt(k)) {
        i += k;
        fail();
      }
    }
    i += word.length;
    return v;
  }

  function value(): unknown {
    ws();
    if (i >= n) fail();
    const c = b[i];
    if (c === 0x7b) {
      i++;
      const o: Record<string, unknown> = {};
      ws();
      if (b[i] === 0x7d) {
        i++;
        return o;
      }
      while (true) {
        ws();
        if (b[i] !== QUOTE) fail();
        const k = string() as string;
        ws();
        if (b[i] !== 0x3a) fail();
        i++;
        if (bytesAt.length) path.push(k);
        const v = value();
        if (bytesAt.length) path.pop();
        // As JSON.parse: an own property, even one named __proto__.
        if (k === "__proto__") {
          Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
        } else o[k] = v;
        ws();
        if (b[i] === 0x2c) {
          i++;
          continue;
        }
        if (b[i] === 0x7d) {
          i++;
          return o;
        }
        fail();
      }
    }
    if (c === 0x5b) {
      i++;
      const a: unknown[] = [];
      ws();
      if (b[i] === 0x5d) {
        i++;
        return a;
      }
      if (bytesAt.length) path.push(null);
      while (true) {
        a.push(value());
        ws();
        if (b[i] === 0x2c) {
          i++;
          continue;
        }
        if (b[i] === 0x5d) {
          i++;
          if (bytesAt.length) path.pop();
          return a;
        }
        fail();
      }
    }
    if (c === QUOTE) return string(bytesAt.length > 0 && wantsBytes());
    if (c === 0x74) return literal("true", true);
    if (c === 0x66) return literal("false", false);
    if (c === 0x6e) return literal("null", null);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number();
    return fail();
  }

  const result = value();
  ws();
  if (i < n) fail();
  return result;
}

/**
 * True when `b` is well-formed UTF-8 (Unicode table 3-7: no overlong forms, no surrogates, nothing past
 * U+10FFFF, no cut sequence): exactly the bytes that TextDecoder decodes without a U+FFFD of its own.
 */
export function isWellFormedUtf8(b: Uint8Array): boolean {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    const c1 = b[i + 1]; // undefined past the end: every comparison below is then false
    if (c >= 0xc2 && c <= 0xdf) {
      if (!(c1 >= 0x80 && c1 <= 0xbf)) return false;
      i += 2;
      continue;
    }
    const c2 = b[i + 2];
    if (c >= 0xe0 && c <= 0xef) {
      const lo = c === 0xe0 ? 0xa0 : 0x80, hi = c === 0xed ? 0x9f : 0xbf;
      if (!(c1 >= lo && c1 <= hi && c2 >= 0x80 && c2 <= 0xbf)) return false;
      i += 3;
      continue;
    }
    const c3 = b[i + 3];
    if (c >= 0xf0 && c <= 0xf4) {
      const lo = c === 0xf0 ? 0x90 : 0x80, hi = c === 0xf4 ? 0x8f : 0xbf;
      if (!(c1 >= lo && c1 <= hi && c2 >= 0x80 && c2 <= 0xbf && c3 >= 0x80 && c3 <= 0xbf)) return false;
      i += 4;
      continue;
    }
    return false;
  }
  return true;
}
