import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { type JsonStreamOptions, JsonStreamParser, readJsonStream } from "../../src/api/json_stream.ts";
import { Utf8Chunks } from "../../src/utf8.ts";

const enc = new TextEncoder();

/** Parses `bytes` fed in pieces cut at `cuts` (positions). */
function parseCut(bytes: Uint8Array, cuts: number[], opts?: JsonStreamOptions): unknown {
  const p = new JsonStreamParser(opts);
  let from = 0;
  for (const at of [...cuts, bytes.length]) {
    // A copy that is then overwritten: the parser must keep nothing of a piece it was given.
    const piece = bytes.slice(from, at);
    p.push(piece);
    piece.fill(0x21);
    from = at;
  }
  return p.end();
}

/** Every way that matters: whole, byte by byte, and cut once at every position. */
function parseEveryWay(text: string | Uint8Array, opts?: JsonStreamOptions): unknown[] {
  const bytes = typeof text === "string" ? enc.encode(text) : text;
  const out = [parseCut(bytes, [], opts), parseCut(bytes, [...bytes.keys()].slice(1), opts)];
  for (let k = 1; k < bytes.length; k++) out.push(parseCut(bytes, [k], opts));
  return out;
}

const SAMPLES = [
  "{}",
  "[]",
  ' \n\t{ "a" : [ 1 , -2.5e3 , 0 , 0.25 , 1E-2 , true , false , null ] } \r\n',
  '"plain"',
  '"esc \\" \\\\ \\/ \\b \\f \\n \\r \\t end"',
  '"\\u0041\\u00e9\\u20ac\\ud83d\\ude00 after"',
  '"é€😀 raw UTF-8"',
  '{"id":"x","status":"Finished","results":{"resultType":"text","data":"line 1\\nline 2\\n"}}',
  '{"a":{"b":{"c":[[],[{}],""]}}}',
  '{"k":1,"k":2}',
  "-0",
  "7",
  "123456789012345678901234567890",
  "[1e400,-1e-400,0.1,1.7976931348623157e308]",
  '"\\u0000"',
  '"\\ufeffa BOM inside a string stays"',
  '"\ufeffa raw BOM inside a string stays"',
  '{"":"empty key","a b":"x"}',
];

Deno.test("json stream: the same values as JSON.parse, however the body is cut", () => {
  for (const t of SAMPLES) {
    for (const v of parseEveryWay(t)) assertEquals(v, JSON.parse(t), t);
  }
});

Deno.test("json stream: a key named __proto__ is an own property, as with JSON.parse", () => {
  const v = parseCut(enc.encode('{"__proto__": {"polluted": true}}'), []) as Record<string, unknown>;
  assertEquals(Object.keys(v), ["__proto__"]);
  assertEquals(({} as Record<string, unknown>).polluted, undefined);
  assertEquals(Object.getPrototypeOf(v), Object.prototype);
});

Deno.test("json stream: random values round-trip like JSON.parse, in random pieces", () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const chars = [
    "a",
    "\n",
    '"',
    "\\",
    "\u0001",
    "é",
    "€",
    "😀",
    "\t",
    "/",
    " ",
    "\u2028",
    "\ufeff",
    "\u0000",
  ];
  const str = () =>
    Array.from({ length: Math.floor(rnd() * 12) }, () => chars[Math.floor(rnd() * chars.length)]).join("");
  const gen = (depth: number): unknown => {
    const r = rnd();
    if (depth > 3 || r < 0.3) return str();
    if (r < 0.4) return Math.round((rnd() - 0.5) * 1e6) / 100;
    if (r < 0.45) return [true, false, null][Math.floor(rnd() * 3)];
    if (r < 0.7) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, () => [str(), gen(depth + 1)]));
  };
  for (let k = 0; k < 500; k++) {
    const text = JSON.stringify(gen(0), null, k % 2 ? 1 : undefined);
    const bytes = enc.encode(text);
    const cuts = [...bytes.keys()].filter(() => rnd() < 0.2).filter((x) => x > 0);
    assertEquals(parseCut(bytes, cuts), JSON.parse(text), text);
  }
});

Deno.test("json stream: not JSON throws a SyntaxError, however it is cut", () => {
  const bad = [
    "",
    " ",
    "{",
    '{"a":}',
    '{"a" 1}',
    '{"a":1,}',
    '{,"a":1}',
    "[1,]",
    "[,1]",
    "[1 2]",
    '"unterminated',
    '"bad \\x escape"',
    '"\\u12"',
    '"\\u12g4"',
    '"raw\ncontrol"',
    "01",
    "1.",
    "1e",
    "-",
    "+1",
    ".5",
    "1-2",
    "tru",
    "trux",
    "nul",
    "nulll",
    "{} x",
    "{}{}",
    "<html>",
    "'single'",
    "[1]]",
    '{"a":1}}',
  ];
  for (const t of bad) {
    const bytes = enc.encode(t);
    for (const cuts of [[], [...bytes.keys()].slice(1)]) {
      assertThrows(() => parseCut(bytes, cuts), (e) => assertEquals(e instanceof SyntaxError, true, t));
    }
  }
});

Deno.test("json stream: escaped surrogates: pairs join even when cut anywhere; a lone one is U+FFFD", () => {
  const cases: Array<[string, string]> = [
    ['"a\\ud800b"', "a\ufffdb"],
    ['"\\udc00"', "\ufffd"],
    ['"\\ud800\\u0041"', "\ufffdA"],
    ['"\\ud800\\n"', "\ufffd\n"],
    ['"\\ud800\\ud83d\\ude00"', "\ufffd😀"],
    ['"\\ud83d"', "\ufffd"],
    ['"\\ud83d\\ude00\\ud83d\\ude00"', "😀😀"],
    ['"\\ud800é"', "\ufffdé"],
  ];
  for (const [json, want] of cases) {
    for (const v of parseEveryWay(json)) assertEquals(v, want, json);
  }
});

Deno.test("json stream: a byte order mark before the body is dropped, as TextDecoder drops it", () => {
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode('{"a":1}')]);
  for (const v of parseEveryWay(bytes)) assertEquals(v, { a: 1 });
  assertThrows(
    () => parseCut(new Uint8Array([0xef, 0xbb, 0x41]), []),
    (e) => assert(e instanceof SyntaxError),
  );
  assertThrows(
    () => parseCut(new Uint8Array([0x20, 0xef, 0xbb, 0xbf, 0x31]), []),
    (e) => assert(e instanceof SyntaxError),
  );
});

Deno.test("json stream: bytesAt gives the string's UTF-8 bytes there, and only there", () => {
  const opts = { bytesAt: [["results", "data"]] };
  const text =
    '{"data":"a","results":{"data":"b\\n\\ud83d\\ude00é","x":{"data":"c"}},"r":[{"results":{"data":"d"}}]}';
  for (const v of parseEveryWay(text, opts) as Array<Record<string, Record<string, unknown>>>) {
    const data = v.results.data;
    assert(data instanceof Utf8Chunks);
    assertEquals(new TextDecoder().decode(data.head(1000)), "b\n😀é");
    assertEquals(data.byteLength, enc.encode("b\n😀é").length);
    assertEquals(v.data, "a");
    assertEquals(v.results.x, { data: "c" });
    assertEquals(v.r, [{ results: { data: "d" } }]);
  }
  // Not a string there: parsed as usual. Broken UTF-8 there: decoded (U+FFFD), as everywhere.
  assertEquals(parseCut(enc.encode('{"results":{"data":[["x",1]]}}'), [], opts), {
    results: { data: [["x", 1]] },
  });
  const broken = new Uint8Array([...enc.encode('{"results":{"data":"a'), 0xff, ...enc.encode('"}}')]);
  assertEquals(parseCut(broken, [], opts), { results: { data: "a\ufffd" } });
});

Deno.test("json stream: a 20 MiB string is kept in 1 MiB pieces, the same bytes", () => {
  const line = 'step 42 "q" \\ é€😀 \u0000\n';
  const text = line.repeat(Math.ceil((20 * 1024 * 1024) / line.length));
  const body = enc.encode(JSON.stringify({ results: { data: text } }));
  const cuts: number[] = [];
  for (let at = 65_537; at < body.length; at += 65_537) cuts.push(at);
  const v = parseCut(body, cuts, { bytesAt: [["results", "data"]] }) as { results: { data: Utf8Chunks } };
  const want = enc.encode(text);
  const got = v.results.data;
  assertEquals(got.byteLength, want.length);
  assert(got.chunks.every((c) => c.length <= 1024 * 1024));
  let at = 0;
  for (const c of got.chunks) {
    for (let i = 0; i < c.length; i++) if (c[i] !== want[at + i]) throw new Error(`differs at ${at + i}`);
    at += c.length;
  }
  // Decoded where bytes were not asked for: the same text.
  assertEquals(parseCut(body, cuts), { results: { data: text } });
});

Deno.test("readJsonStream: value, empty body, bad JSON with its head, BYOB and plain streams", async () => {
  const bodyOf = (bytes: Uint8Array, piece = 3) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += piece) c.enqueue(bytes.slice(i, i + piece));
        c.close();
      },
    });
  assertEquals(await readJsonStream(bodyOf(enc.encode(' {"a":[1]} ')), { headBytes: 8 }), {
    value: { a: [1] },
  });
  assertEquals(await readJsonStream(bodyOf(enc.encode(" \n ")), { headBytes: 8 }), { empty: true });
  assertEquals(await readJsonStream(null, { headBytes: 8 }), { empty: true });
  const bad = await readJsonStream(bodyOf(enc.encode("<html>" + "x".repeat(1000))), { headBytes: 4096 });
  assert("error" in bad && bad.error instanceof SyntaxError);
  assertEquals(new TextDecoder().decode(bad.head).slice(0, 9), "<html>xxx");
  assert(bad.head.length >= 200);
  const truncated = await readJsonStream(bodyOf(enc.encode('{"a":')), { headBytes: 8 });
  assert("error" in truncated);
  // A real byte stream (as fetch gives): read with one reused buffer.
  const big = JSON.stringify({ results: { data: "é".repeat(300_000) } });
  const byob = await readJsonStream(new Response(big).body, { headBytes: 8, bytesAt: [["results", "data"]] });
  assert("value" in byob);
  const data = (byob.value as { results: { data: Utf8Chunks } }).results.data;
  assertEquals(data.byteLength, 600_000);
});
