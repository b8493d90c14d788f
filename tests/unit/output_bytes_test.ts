// A large command output stays the UTF-8 bytes of the answer's body (json_stream.ts bytesAt: Utf8Chunks)
// all the way to its .stdout file: these tests hold that path to the one that decodes the body and
// JSON.parses it (what a small answer takes) and to the one that decodes the output into a string (what
// large ones took before): the same file bytes, byte count, previews and truncation flag, on tricky inputs,
// however the body is cut into pieces.

import { assert, assertEquals } from "../helpers/assert.ts";
import { type JsonStreamOptions, JsonStreamParser } from "../../src/api/json_stream.ts";
import type { CommandStatusResponse } from "../../src/api/commands.ts";
import { mapResult } from "../../src/repl/results.ts";
import { stepFiles } from "../../src/session/files.ts";
import {
  hasTruncationMarker,
  preview,
  TRUNCATION_MARKER,
  writeStepOutputs,
} from "../../src/session/outputs.ts";
import { isWellFormedUtf8, Utf8Chunks } from "../../src/utf8.ts";

const enc = new TextEncoder();
const PATHS = { bytesAt: [["results", "data"]] };

/** A commands/status body whose results.data is `data` (already JSON text of a string, quotes included). */
function body(dataJson: string | Uint8Array): Uint8Array {
  const head = enc.encode('{"id":"c1","status":"Finished","results":{"resultType":"text","data":');
  const data = typeof dataJson === "string" ? enc.encode(dataJson) : dataJson;
  const tail = enc.encode(',"truncated":false},"extra":["x",{"data":"y"}]}');
  const out = new Uint8Array(head.length + data.length + tail.length);
  out.set(head);
  out.set(data, head.length);
  out.set(tail, head.length + data.length);
  return out;
}

function parseCut(b: Uint8Array, cuts: number[], opts?: JsonStreamOptions): unknown {
  const p = new JsonStreamParser(opts);
  let from = 0;
  for (const at of [...cuts, b.length]) {
    p.push(b.slice(from, at));
    from = at;
  }
  return p.end();
}

interface Recorded {
  file: Uint8Array;
  bytes: number;
  previews: string[];
  truncated: boolean;
  wasBytes: boolean;
}

const PREVIEW_LENGTHS = [0, 1, 2, 3, 5, 200];

async function record(dir: string, status: CommandStatusResponse, lengths: number[]): Promise<Recorded> {
  const m = mapResult(status);
  const files = stepFiles(1, "big", "python");
  const w = await writeStepOutputs(dir, files, { stdout: m.stdout, stderr: m.stderr });
  return {
    file: await Deno.readFile(`${dir}/${files.stdout}`),
    bytes: w.stdout_bytes,
    previews: lengths.map((n) => preview(m.stdout, n)),
    truncated: m.truncated,
    wasBytes: m.stdout instanceof Utf8Chunks,
  };
}

type Ways = { ref: Recorded; old: Recorded; now: Recorded };

/**
 * Three ways, each written in its own folder: `ref` decodes the body and JSON.parses it (a small answer's
 * way); `old` decodes the output into a string (a large answer's way before); `now` keeps it as bytes.
 * The body is fed to the parser in pieces cut at `cuts`.
 */
async function ways(b: Uint8Array, lengths = PREVIEW_LENGTHS, cuts: number[] = []): Promise<Ways> {
  const dir = await Deno.makeTempDir({ prefix: "dbxr_outbytes_" });
  try {
    const reference = JSON.parse(new TextDecoder().decode(b)) as CommandStatusResponse;
    const ref = await record(`${dir}/ref`, reference, lengths);
    const old = await record(`${dir}/old`, parseCut(b, cuts) as CommandStatusResponse, lengths);
    const now = await record(`${dir}/now`, parseCut(b, cuts, PATHS) as CommandStatusResponse, lengths);
    return { ref, old, now };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The same file bytes, byte count and flag all three ways; the previews of the old way (a lone surrogate is
 * U+FFFD there, as in the file, where JSON.parse keeps it: a preview is JSON text, both are valid).
 */
function assertSame(r: Ways, what: string) {
  for (const other of [r.ref, r.old]) {
    assertEquals(r.now.bytes, other.bytes, `${what}: stdout_bytes`);
    assert(sameBytes(r.now.file, other.file), `${what}: file bytes differ`);
    assertEquals(r.now.truncated, other.truncated, `${what}: truncated`);
  }
  assertEquals(r.now.bytes, r.now.file.length, `${what}: stdout_bytes is the file's size`);
  assertEquals(r.now.previews, r.old.previews, `${what}: previews`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const TRICKY: Array<[string, string]> = [
  ["plain", JSON.stringify("hello\nworld\n")],
  ["every simple escape", '"q\\" b\\\\ s\\/ \\b\\f\\n\\r\\t end"'],
  ["control characters, NUL first", JSON.stringify("\u0000a\u0001\u001f\u007f\u2028\u2029z")],
  ["every \\u escape form", '"\\u0000\\u0041\\u00e9\\u00E9\\u20ac\\uFFFF\\uffFe"'],
  ["raw astral and multi-byte", JSON.stringify("é€😀𝄞 日本語 🚀🚀")],
  ["escaped surrogate pairs", '"\\ud83d\\ude00\\uD834\\uDD1E x"'],
  ["lone high, lone low, high then not-low, high last", '"a\\ud800b\\udc00c\\ud800\\u0041\\ud83d"'],
  ["two highs then a low", '"\\ud800\\ud83d\\ude00"'],
  ["byte order mark, escaped", '"\\ufeffstarts with a BOM"'],
  ["byte order mark, raw", '"\ufeffstarts with a BOM"'],
  ["the truncation marker", JSON.stringify(`a\n${TRUNCATION_MARKER}\nb`)],
  ["a marker cut short", JSON.stringify(`a ${TRUNCATION_MARKER.slice(0, -1)}`)],
  ["empty", '""'],
];

const everyCut = (b: Uint8Array) => Array.from({ length: b.length - 1 }, (_, k) => [k + 1]);

Deno.test("large output as bytes: the same file, byte count, previews and flag as JSON.parse, cut anywhere", async () => {
  for (const [what, json] of TRICKY) {
    const b = body(json);
    // Whole, byte by byte, and cut once at every position of the output's JSON text.
    const from = b.length - json.length - 50;
    const cutsList = [[], [...b.keys()].slice(1), ...everyCut(b).filter(([k]) => k >= from - 2)];
    for (const cuts of cutsList) {
      const r = await ways(b, PREVIEW_LENGTHS, cuts);
      assertSame(r, `${what}, cut at ${cuts.length > 3 ? "every byte" : cuts}`);
      // Empty output stays "" (no preview at all, as before); everything else stays bytes.
      assertEquals(r.now.wasBytes, what !== "empty", what);
    }
  }
});

Deno.test("large output as bytes: the BOM of a string is kept (the in-place parser dropped it)", async () => {
  const r = await ways(body('"\\ufeffx"'));
  assertEquals([...r.now.file], [0xef, 0xbb, 0xbf, 0x78]);
  assertEquals(r.now.previews.at(-1), "\ufeffx");
  // And where the string is decoded (not at a bytes path), as JSON.parse does too.
  assertEquals(parseCut(enc.encode('{"a":"\\ufeffx","b":"\ufeffy"}'), []), { a: "\ufeffx", b: "\ufeffy" });
});

Deno.test("large output as bytes: broken UTF-8 in the body is decoded (U+FFFD) exactly as before", async () => {
  const broken: Array<[string, number[]]> = [
    ["a stray continuation byte", [0x61, 0x80, 0x62]],
    ["0xff", [0xff]],
    ["a sequence cut by the closing quote", [0x61, 0xe2, 0x82]],
    ["a sequence cut by an escape", [0x61, 0xe2, 0x82, 0x5c, 0x6e]],
    ["an overlong slash", [0xc0, 0xaf]],
    ["an encoded surrogate", [0xed, 0xa0, 0x80]],
    ["past U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
  ];
  for (const [what, raw] of broken) {
    const b = body(new Uint8Array([0x22, ...raw, 0x22]));
    for (const cuts of [[], ...everyCut(b)]) {
      const r = await ways(b, PREVIEW_LENGTHS, cuts);
      assertSame(r, `${what}, cut at ${cuts}`);
      assertEquals(r.now.wasBytes, false, `${what}: decoded, not written raw`);
    }
  }
});

Deno.test("large output as bytes: previews cut at every length of a short tricky sample", async () => {
  const sample = JSON.stringify("a😀é\u0000€\n\ud83d\ude00b") // astral, 2- and 3-byte, NUL
    .replace("b", "\\ud800b"); // and a lone surrogate before the last character
  const lengths = Array.from({ length: 16 }, (_, n) => n);
  assertSame(await ways(body(sample), lengths), "short sample");
  // And each prefix of the text cut at every UTF-16 position (the bytes of what JSON.parse gives).
  const text = JSON.parse(sample) as string;
  for (let k = 0; k <= text.length; k++) {
    const json = JSON.stringify(text.slice(0, k));
    assertSame(await ways(body(json), lengths), `prefix ${k}`);
  }
});

Deno.test("large output as bytes: a 20 MiB output gives the same file as the decoded path", async () => {
  const line = 'step 42 loss=0.123 "quoted" \\ tab\t é€ 😀 \u0000 \ud800 end\n';
  const text = line.repeat(Math.ceil((20 * 1024 * 1024) / line.length));
  const b = body(JSON.stringify(text + TRUNCATION_MARKER));
  // In the pieces of an HTTP body (64 KiB and a bit, so that every boundary falls somewhere new).
  const cuts = Array.from({ length: Math.floor(b.length / 65_537) }, (_, k) => (k + 1) * 65_537);
  const r = await ways(b, PREVIEW_LENGTHS, cuts);
  assertSame(r, "20 MiB");
  assert(r.now.wasBytes);
  assert(r.now.truncated, "the marker at the end, past 20 pieces");
  assert(r.now.bytes > 20 * 1024 * 1024);
});

Deno.test("Utf8Chunks: head, text and a search across the pieces' boundaries", () => {
  const text = `é😀${TRUNCATION_MARKER}€`;
  const bytes = enc.encode(text);
  // Every way to cut it in two and in three.
  for (let i = 0; i <= bytes.length; i++) {
    for (let j = i; j <= bytes.length; j += 7) {
      const c = new Utf8Chunks([bytes.slice(0, i), bytes.slice(i, j), bytes.slice(j)]);
      assertEquals(c.byteLength, bytes.length);
      assertEquals(c.text(), text);
      assert(sameBytes(c.head(9), bytes.subarray(0, 9)));
      assert(hasTruncationMarker(c), `${i} ${j}`);
      const cut = new Utf8Chunks([bytes.slice(0, i), bytes.slice(i + 1)]);
      assertEquals(hasTruncationMarker(cut), hasTruncationMarker(new TextDecoder().decode(cut.head(1000))));
    }
  }
  // Many tiny pieces: a match over several boundaries.
  const tiny = new Utf8Chunks([...bytes].map((x) => new Uint8Array([x])));
  assert(hasTruncationMarker(tiny));
});

Deno.test("isWellFormedUtf8 agrees with a fatal TextDecoder", () => {
  const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const ok = (b: Uint8Array) => {
    try {
      fatal.decode(b);
      return true;
    } catch {
      return false;
    }
  };
  // Every 1- and 2-byte sequence.
  for (let a = 0; a < 256; a++) {
    assertEquals(isWellFormedUtf8(new Uint8Array([a])), ok(new Uint8Array([a])), `${a}`);
    for (let b = 0; b < 256; b++) {
      const s = new Uint8Array([a, b]);
      assertEquals(isWellFormedUtf8(s), ok(s), `${a} ${b}`);
    }
  }
  // 3 and 4 bytes: every lead byte against the edges of the continuation ranges.
  const edges = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xff];
  for (let a = 0xc0; a < 256; a++) {
    for (const b of edges) {
      for (const c of edges) {
        const s3 = new Uint8Array([a, b, c]);
        assertEquals(isWellFormedUtf8(s3), ok(s3), `${a} ${b} ${c}`);
        for (const d of edges) {
          const s4 = new Uint8Array([a, b, c, d]);
          assertEquals(isWellFormedUtf8(s4), ok(s4), `${a} ${b} ${c} ${d}`);
        }
      }
    }
  }
  // Every cut of a mixed sample.
  const mixed = enc.encode("a€😀é\ufeffz");
  for (let i = 0; i <= mixed.length; i++) {
    for (let j = i; j <= mixed.length; j++) {
      assertEquals(isWellFormedUtf8(mixed.subarray(i, j)), ok(mixed.subarray(i, j)), `${i}..${j}`);
    }
  }
});

Deno.test("hasTruncationMarker finds the marker in bytes as in text", () => {
  const texts = [
    TRUNCATION_MARKER,
    `é${TRUNCATION_MARKER}😀`,
    "*".repeat(100) + TRUNCATION_MARKER,
    TRUNCATION_MARKER.slice(1),
    TRUNCATION_MARKER.slice(0, -1),
    "*** WARNING",
    "",
  ];
  for (const t of texts) assertEquals(hasTruncationMarker(enc.encode(t)), hasTruncationMarker(t), t);
});
