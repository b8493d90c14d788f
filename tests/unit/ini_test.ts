import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { getProfile, IniError, parseIni, profileNames } from "../../src/api/ini.ts";

const values = (text: string, section: string) => parseIni(text).sections.get(section)?.values;

Deno.test("ini: sections with dots, DEFAULT and __settings__", () => {
  const ini = parseIni(
    [
      "[DEFAULT]",
      "host = https://default.cloud.databricks.com",
      "",
      "[prod.eu]",
      "host = https://eu.cloud.databricks.com",
      "token = dapi123",
      "[__settings__]",
      "default_profile = prod.eu",
    ].join("\n"),
  );
  assertEquals([...ini.sections.keys()], ["DEFAULT", "prod.eu", "__settings__"]);
  assertEquals(ini.sections.get("prod.eu")?.values, {
    host: "https://eu.cloud.databricks.com",
    token: "dapi123",
  });
  assertEquals(ini.sections.get("__settings__")?.values.default_profile, "prod.eu");
  assertEquals(profileNames(ini), ["DEFAULT", "prod.eu"]);
});

Deno.test("ini: values keep '=' and '#' unless a comment starts after whitespace", () => {
  const v = values(
    [
      "[p]",
      "password = pa#ss=word;x",
      "token = abc # a note",
      "client_secret = s3cr3t\t; tab note",
      "url = https://h/?o=1#frag",
    ].join("\n"),
    "p",
  );
  assertEquals(v, {
    password: "pa#ss=word;x",
    token: "abc",
    client_secret: "s3cr3t",
    url: "https://h/?o=1#frag",
  });
});

Deno.test("ini: full-line comments, blank lines, CRLF, BOM", () => {
  const v = values("\uFEFF# top\r\n; also\r\n\r\n[p]\r\n  # indented comment\r\nhost = h\r\n", "p");
  assertEquals(v, { host: "h" });
});

Deno.test("ini: quotes are stripped and protect comment characters", () => {
  const v = values(
    ["[p]", 'a = "quoted # not a comment"', "b = 'single'", "c = `back`", 'd = """triple"""', 'e = ""'].join(
      "\n",
    ),
    "p",
  );
  assertEquals(v, { a: "quoted # not a comment", b: "single", c: "back", d: "triple", e: "" });
});

Deno.test("ini: keys are case-insensitive (lower-cased), section names are not", () => {
  const ini = parseIni("[Prod]\nHOST = h\nToken = t\n[prod]\nhost = other\n");
  assertEquals(ini.sections.get("Prod")?.values, { host: "h", token: "t" });
  assertEquals(ini.sections.get("prod")?.values, { host: "other" });
});

Deno.test("ini: the last assignment wins and a repeated section merges", () => {
  const ini = parseIni("[p]\nhost = a\n[q]\nx = 1\n[p]\nhost = b\ntoken = t\n");
  assertEquals(ini.sections.get("p")?.values, { host: "b", token: "t" });
  assertEquals(ini.sections.get("p")?.lines, { host: 6, token: 7 });
});

Deno.test("ini: keys before any section go to DEFAULT; ':' is a delimiter too", () => {
  const ini = parseIni("host: https://h\n[p]\ntoken = t\n");
  assertEquals(ini.sections.get("DEFAULT")?.values, { host: "https://h" });
});

Deno.test("ini: text after a section header is a comment; empty sections count as absent profiles", () => {
  const ini = parseIni("[DEFAULT]\n\n[p] ; note\nhost = h\n[__settings__]\ndefault_profile = p\n");
  assertEquals(profileNames(ini), ["p"]);
  assertEquals(getProfile(ini, "DEFAULT"), undefined);
  assertEquals(getProfile(ini, "__settings__"), undefined);
  assertEquals(getProfile(ini, "p")?.values, { host: "h" });
});

Deno.test("ini: malformed lines are errors with line numbers", () => {
  for (
    const [text, line] of [
      ["[p]\nhost = h\njunk\n", 3],
      ["[p\n", 1],
      ["[]\n", 1],
      ["[p]\n = value\n", 2],
    ] as const
  ) {
    const e = assertThrows(() => parseIni(text));
    assertEquals(e instanceof IniError && e.line, line);
  }
});
