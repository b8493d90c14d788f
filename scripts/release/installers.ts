// The copies of scripts/install.sh and scripts/install.ps1 that a release carries, with the repository they
// download from written in (the sources leave it empty: a checkout does not know where it is published).
//
//   deno run --allow-read --allow-write scripts/release/installers.ts OWNER/NAME dist/

import { ROOT_DIR } from "../flags.ts";

const SH_LINE = /^DEFAULT_REPO="";?$/m;
const PS1_LINE = /^(\s*)\$DefaultRepo = "";?$/m;

/** The installer's text with its default repository set; throws if the file has no such line. */
export function stampRepo(kind: "sh" | "ps1", text: string, repo: string): string {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repo)) throw new Error(`not an owner/name: ${repo}`);
  const line = kind === "sh" ? SH_LINE : PS1_LINE;
  if (!line.test(text)) throw new Error(`install.${kind} has no empty default repository line to set`);
  return kind === "sh"
    ? text.replace(SH_LINE, () => `DEFAULT_REPO="${repo}"`)
    : text.replace(PS1_LINE, (_, indent: string) => `${indent}$DefaultRepo = "${repo}"`);
}

if (import.meta.main) {
  const [repo, outDir] = Deno.args;
  if (!repo || !outDir) {
    // deno-lint-ignore no-console
    console.error("usage: installers.ts OWNER/NAME OUT_DIR");
    Deno.exit(2);
  }
  for (const kind of ["sh", "ps1"] as const) {
    const text = await Deno.readTextFile(`${ROOT_DIR}scripts/install.${kind}`);
    await Deno.writeTextFile(`${outDir}/install.${kind}`, stampRepo(kind, text, repo), { mode: 0o755 });
  }
}
