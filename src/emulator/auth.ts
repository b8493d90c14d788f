// Which requests need a Bearer token: the REST APIs and model serving, as on a real workspace. OIDC
// discovery and the token endpoint are public; /__emulator/ is the emulator's own and never checked.

export function requiresAuth(path: string): boolean {
  return path.startsWith("/api/") || path.startsWith("/serving-endpoints");
}
