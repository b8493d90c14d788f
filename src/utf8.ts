// Text kept as UTF-8 bytes: a command's output from a large API answer goes from the response body to its
// file without ever being one JavaScript string (json_stream.ts, session/outputs.ts), so that it is in
// memory once. Pure.

/**
 * Well-formed UTF-8 text as the list of byte pieces it arrived in (never joined: joining would hold it
 * twice). Written to a file as they are; what writing the decoded text would write, byte for byte.
 */
export class Utf8Chunks {
  readonly byteLength: number;
  constructor(readonly chunks: readonly Uint8Array[]) {
    this.byteLength = chunks.reduce((n, c) => n + c.length, 0);
  }

  /** The whole text (a copy: for small outputs only, e.g. dbxr's own helper commands). */
  text(): string {
    const d = new TextDecoder("utf-8", { ignoreBOM: true });
    let s = "";
    for (const c of this.chunks) s += d.decode(c, { stream: true });
    return s + d.decode();
  }

  /** The first `n` bytes (or all), joined: for a preview. */
  head(n: number): Uint8Array {
    const out = new Uint8Array(Math.min(n, this.byteLength));
    let at = 0;
    for (const c of this.chunks) {
      if (at >= out.length) break;
      const part = c.subarray(0, out.length - at);
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Whether the bytes of `needle` occur, also across the pieces' boundaries. */
  includes(needle: Uint8Array): boolean {
    if (needle.length === 0) return true;
    const keep = needle.length - 1;
    let carry = new Uint8Array(0);
    for (const c of this.chunks) {
      // The end of what came before, then this piece's start: a match that spans a boundary.
      const joint = new Uint8Array(carry.length + Math.min(c.length, keep));
      joint.set(carry);
      joint.set(c.subarray(0, joint.length - carry.length), carry.length);
      if (indexOfBytes(joint, needle) >= 0 || indexOfBytes(c, needle) >= 0) return true;
      const tail = new Uint8Array(Math.min(keep, carry.length + c.length));
      const fromC = Math.min(tail.length, c.length);
      tail.set(carry.subarray(carry.length - (tail.length - fromC)));
      tail.set(c.subarray(c.length - fromC), tail.length - fromC);
      carry = tail;
    }
    return false;
  }
}

/** Where `needle` starts in `hay`, or -1. */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return 0;
  const first = needle[0], last = hay.length - needle.length;
  for (let i = hay.indexOf(first); i >= 0 && i <= last; i = hay.indexOf(first, i + 1)) {
    let k = 1;
    while (k < needle.length && hay[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
  }
  return -1;
}

/**
 * Checks UTF-8 piece by piece (Unicode table 3-7: no overlong forms, no surrogates, nothing past U+10FFFF,
 * no cut sequence at the end): exactly the bytes that TextDecoder decodes without a U+FFFD of its own.
 */
export class Utf8Validator {
  #needed = 0;
  #lower = 0x80;
  #upper = 0xbf;
  #ok = true;

  push(b: Uint8Array): boolean {
    if (!this.#ok) return false;
    let needed = this.#needed, lower = this.#lower, upper = this.#upper;
    const n = b.length;
    for (let i = 0; i < n; i++) {
      const c = b[i];
      if (needed === 0) {
        if (c < 0x80) continue;
        if (c >= 0xc2 && c <= 0xdf) needed = 1;
        else if (c >= 0xe0 && c <= 0xef) {
          if (c === 0xe0) lower = 0xa0;
          if (c === 0xed) upper = 0x9f;
          needed = 2;
        } else if (c >= 0xf0 && c <= 0xf4) {
          if (c === 0xf0) lower = 0x90;
          if (c === 0xf4) upper = 0x8f;
          needed = 3;
        } else return this.#ok = false;
      } else {
        if (c < lower || c > upper) return this.#ok = false;
        lower = 0x80;
        upper = 0xbf;
        needed--;
      }
    }
    this.#needed = needed;
    this.#lower = lower;
    this.#upper = upper;
    return true;
  }

  /** True when everything pushed was well-formed and no sequence is left unfinished. */
  end(): boolean {
    return this.#ok && this.#needed === 0;
  }
}

export function isWellFormedUtf8(b: Uint8Array): boolean {
  const v = new Utf8Validator();
  v.push(b);
  return v.end();
}
