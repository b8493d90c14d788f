// Shared by the scripts and the tests that start dbxr or the emulator as a subprocess: the permission
// flag lists (one flag per line) and the Deno cache to hand to a child whose HOME is a temp dir.

const ROOT = new URL("../", import.meta.url).pathname;

const cache = new Map<string, string[]>();

/** The flags of scripts/permission_flags.txt (the CLI) or scripts/emulator_permission_flags.txt. */
export function permissionFlags(
  file: "permission_flags.txt" | "emulator_permission_flags.txt" = "permission_flags.txt",
) {
  let flags = cache.get(file);
  if (!flags) {
    flags = Deno.readTextFileSync(`${ROOT}scripts/${file}`).split("\n").map((l) => l.trim()).filter((l) =>
      l && !l.startsWith("#")
    );
    cache.set(file, flags);
  }
  return flags;
}

let cachedDenoDir: string | undefined;

/** This process's Deno cache, so that a child with another HOME does not fetch the npm packages again. */
export function denoDir(): string {
  if (cachedDenoDir) return cachedDenoDir;
  const explicit = Deno.env.get("DENO_DIR");
  if (explicit) return cachedDenoDir = explicit;
  const out = new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped", stderr: "null" })
    .outputSync();
  return cachedDenoDir = JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
}

export const ROOT_DIR = ROOT;
