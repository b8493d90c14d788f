// Redaction for --debug traces: secrets never reach stderr (docs/contract.md §9). Text-based rather than
// parse-and-reprint, so that it also works on bodies cut short for the trace and on form bodies.

export const REDACTED = "[REDACTED]";

/** JSON or form keys whose values are secrets (compared case-insensitively). */
const SECRET_KEYS = [
  "token",
  "access_token",
  "refresh_token",
  "id_token",
  "token_value",
  "client_secret",
  "password",
  "apitoken",
  "api_token",
  "secret",
  "client_assertion",
];
const KEY_ALTERNATION = SECRET_KEYS.join("|");

// "key": "value" (the value may be cut short by truncation, hence the optional closing quote).
const JSON_STRING_VALUE = new RegExp(`("(?:${KEY_ALTERNATION})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*(?:"|$)`, "gi");
// "key": 123 or other bare values, in case a secret is numeric.
const JSON_BARE_VALUE = new RegExp(
  `("(?:${KEY_ALTERNATION})"\\s*:\\s*)(?!["\\s{\\[]|null\\b)[^,}\\]\\s]+`,
  "gi",
);
// key=value in forms and query strings.
const FORM_VALUE = new RegExp(`(^|[?&\\s])((?:${KEY_ALTERNATION})=)[^&\\s]*`, "gi");
// Personal access tokens, wherever they appear.
const PAT = /\bdapi[0-9a-f]{16,}(?:-\d+)?\b/gi;
// Bearer and Basic credentials inside text (an Authorization header echoed back, a log line).
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;
// JWTs (OAuth access tokens): three base64url parts starting with the encoded `{"`.
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

/** Header names whose values are never shown. */
const SECRET_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-databricks-azure-sp-management-token",
]);

/**
 * Redacts secrets in a body, URL or message. `secrets` adds known values (the token in use) so that they are
 * caught even when they look like nothing in particular.
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) {
    // Short values would blank out ordinary words; real tokens are long.
    if (s.length >= 8) out = out.split(s).join(REDACTED);
  }
  return out
    .replace(JSON_STRING_VALUE, `$1"${REDACTED}"`)
    .replace(JSON_BARE_VALUE, `$1"${REDACTED}"`)
    .replace(FORM_VALUE, `$1$2${REDACTED}`)
    .replace(AUTH_SCHEME, `$1 ${REDACTED}`)
    .replace(JWT, REDACTED)
    .replace(PAT, REDACTED);
}

/** Headers as "name: value" lines, with credentials replaced. */
export function redactHeaders(
  headers: Headers | Record<string, string>,
  secrets: readonly string[] = [],
): Array<[string, string]> {
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  return entries.map(([name, value]) => [
    name,
    SECRET_HEADERS.has(name.toLowerCase()) ? REDACTED : redactText(value, secrets),
  ]);
}

/** For traces: redact first, then cut to `max` characters, so that a cut never exposes half a secret. */
export function redactForTrace(text: string, max = 2048, secrets: readonly string[] = []): string {
  // Redacting all of a 20 MB body would be slow; a margin past the cut is enough to see whole keys.
  const head = text.length > max * 4 ? text.slice(0, max * 4) : text;
  const red = redactText(head, secrets);
  return red.length > max || text.length > head.length ? `${red.slice(0, max)}… (${text.length} chars)` : red;
}
