// What `dbxr --version` prints: the version, the Deno runtime it runs on and the target it was built for,
// so a bug report or a CI log says which binary ran.

import { VERSION } from "./version.ts";

export function versionText(
  version: string = VERSION,
  deno: string = Deno.version.deno,
  target: string = Deno.build.target,
): string {
  return `dbxr ${version} (deno ${deno}, ${target})`;
}
