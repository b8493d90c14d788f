import { REDACTED, redactForTrace, redactHeaders, redactText } from "../../src/api/redact.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const PAT = "dapi0123456789abcdef0123456789abcdef";

Deno.test("redact: secret keys in JSON, whatever the spacing and case", () => {
  const body = JSON.stringify({
    access_token: "eyJhbGciOi.x",
    token_type: "Bearer",
    refresh_token: "r-123",
    client_secret: "cs",
    password: "p#ss",
    apiToken: "at",
    token: "t",
    token_value: "tv",
    expires_in: 3600,
  });
  const out = redactText(body);
  assertEquals(JSON.parse(out), {
    access_token: REDACTED,
    token_type: "Bearer",
    refresh_token: REDACTED,
    client_secret: REDACTED,
    password: REDACTED,
    apiToken: REDACTED,
    token: REDACTED,
    token_value: REDACTED,
    expires_in: 3600,
  });
  assertEquals(redactText('{ "Token" :  "x\\"y" , "n": 1}'), `{ "Token" :  "${REDACTED}" , "n": 1}`);
  assertEquals(redactText('{"password": 12345}'), `{"password": "${REDACTED}"}`);
  assertEquals(redactText('{"token": null}'), '{"token": null}');
});

Deno.test("redact: form bodies and query strings", () => {
  assertEquals(
    redactText("grant_type=refresh_token&refresh_token=abc&client_secret=xyz&scope=all-apis"),
    `grant_type=refresh_token&refresh_token=${REDACTED}&client_secret=${REDACTED}&scope=all-apis`,
  );
  assertEquals(redactText("/api/x?token=abc&path=/a"), `/api/x?token=${REDACTED}&path=/a`);
});

Deno.test("redact: PATs, bearer values and JWTs anywhere", () => {
  assertEquals(redactText(`token is ${PAT}-2 ok`), `token is ${REDACTED} ok`);
  assertEquals(redactText("Authorization: Bearer abcdefghijkl"), `Authorization: Bearer ${REDACTED}`);
  assertEquals(redactText("Basic dXNlcjpwYXNzd29yZA=="), `Basic ${REDACTED}`);
  assertEquals(redactText("x eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_-x y"), `x ${REDACTED} y`);
  assertEquals(redactText("print(spark.conf.get('x'))"), "print(spark.conf.get('x'))");
});

Deno.test("redact: known secret values, however they look", () => {
  assertEquals(redactText("echo emulator-token-42 done", ["emulator-token-42"]), `echo ${REDACTED} done`);
  // Short values would blank ordinary words.
  assertEquals(redactText("a b c", ["a"]), "a b c");
});

Deno.test("redact: headers", () => {
  const h = redactHeaders(
    new Headers({ Authorization: `Bearer ${PAT}`, "User-Agent": "dbxr/0.1.0", Cookie: "s=1" }),
  );
  assertEquals(Object.fromEntries(h), {
    authorization: REDACTED,
    "user-agent": "dbxr/0.1.0",
    cookie: REDACTED,
  });
  assertEquals(redactHeaders({ "X-Note": PAT }), [["X-Note", REDACTED]]);
});

Deno.test("redact: traces redact before cutting, so a cut never shows half a secret", () => {
  const body = JSON.stringify({ pad: "x".repeat(30), access_token: "A".repeat(100) });
  const t = redactForTrace(body, 60);
  assert(!t.includes("AAAA"), t);
  assert(t.endsWith(`… (${body.length} chars)`), t);
  // A value cut short by a very long body is still caught.
  const long = `{"token": "${"s".repeat(50_000)}`;
  assert(!redactForTrace(long, 100).includes("sss"));
  assertEquals(redactForTrace('{"a":1}'), '{"a":1}');
});
