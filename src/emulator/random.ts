// Seeded randomness for the emulator. Every id and secret derives from the seed, so a test that pins a
// seed sees the same cluster ids on every run; separate named streams keep one kind of id from shifting
// another (issuing an OAuth token must not change the id of the next cluster).

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  int(maxExclusive: number): number;
  hex(length: number): string;
  /** Lower-case letters and digits, as in the suffix of a cluster id. */
  alnum(length: number): string;
  digits(length: number): string;
  uuid(): string;
}

/** FNV-1a over the label, mixed with the seed: a stable 32-bit state per (seed, label). */
function mix(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * mulberry32: numbers in [0, 1) from a 32-bit seed; tiny, fast and good enough for ids and test corpora
 * (not for cryptography). The suites and the fast-path corpus test replay their seeds with it too.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createRng(seed: number, label: string): Rng {
  const next = mulberry32(mix(seed, label));
  const int = (n: number) => Math.floor(next() * n);
  const pick = (alphabet: string, length: number) => {
    let s = "";
    for (let i = 0; i < length; i++) s += alphabet[int(alphabet.length)];
    return s;
  };
  return {
    next,
    int,
    hex: (length) => pick("0123456789abcdef", length),
    alnum: (length) => pick(ALNUM, length),
    digits: (length) => String(1 + int(9)) + pick("0123456789", length - 1),
    uuid: () => {
      const h = pick("0123456789abcdef", 32);
      const variant = "89ab"[int(4)];
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${
        h.slice(20, 32)
      }`;
    },
  };
}

/** A seed for callers that did not pin one: secrets then differ per emulator. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * A cluster id in Databricks' shape `MMDD-HHMMSS-xxxxxxxx`: the creation time (UTC) followed by eight
 * random lower-case letters and digits, e.g. `0124-165313-5fpp2uv9`.
 */
export function clusterIdAt(epochMs: number, rng: Rng): string {
  const d = new Date(epochMs);
  return `${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}-${pad2(d.getUTCHours())}${
    pad2(d.getUTCMinutes())
  }${pad2(d.getUTCSeconds())}-${rng.alnum(8)}`;
}
