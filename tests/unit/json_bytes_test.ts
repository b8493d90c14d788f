import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { parseJsonBytes } from "../../src/api/json_bytes.ts";

const enc = new TextEncoder();
const parse = (text: string) => parseJsonBytes(enc.encode(text));

Deno.test("parseJsonBytes: the same values as JSON.parse", () => {
  const texts = [
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
    "123456789012345678901234567890",
    '"\\u0000"',
  ];
  for (const t of texts) assertEquals(parse(t), JSON.parse(t), t);
});

Deno.test("parseJsonBytes: a key named __proto__ is an own property, as with JSON.parse", () => {
  const v = parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
  assertEquals(Object.keys(v), ["__proto__"]);
  assertEquals(({} as Record<string, unknown>).polluted, undefined);
  assertEquals(Object.getPrototypeOf(v), Object.prototype);
});

Deno.test("parseJsonBytes: random values round-trip like JSON.parse", () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const chars = ["a", "\n", '"', "\\", "\u0001", "é", "€", "😀", "\t", "/", " ", "\u2028"];
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
    assertEquals(parse(text), JSON.parse(text), text);
  }
});

Deno.test("parseJsonBytes: not JSON throws a SyntaxError", () => {
  for (
    const t of [
      "",
      "{",
      '{"a":}',
      '{"a" 1}',
      "[1,]",
      "[1 2]",
      '"unterminated',
      '"bad \\x escape"',
      '"\\u12"',
      '"raw\ncontrol"',
      "01",
      "1.",
      "-",
      "tru",
      "nul",
      "{} x",
      "<html>",
    ]
  ) assertThrows(() => parse(t), (e) => assertEquals(e instanceof SyntaxError, true, t));
});

Deno.test("parseJsonBytes: an escaped lone surrogate becomes U+FFFD (as in the UTF-8 file)", () => {
  assertEquals(parse('"a\\ud800b"'), "a\ufffdb");
});

Deno.test("parseJsonBytes: a byte order mark is dropped, as TextDecoder drops it", () => {
  assertEquals(parseJsonBytes(new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode('{"a":1}')])), { a: 1 });
});
