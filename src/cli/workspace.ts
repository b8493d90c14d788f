// The `workspace` group: thin commands over src/workspace and src/api/workspace. Remote paths are taken
// with or without /Workspace.

import { Command } from "@commander-js/extra-typings";
import { connect } from "../api/connect.ts";
import * as ws from "../api/workspace.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError, isDbxrError } from "../errors.ts";
import { normalizeRemotePath, remoteParent } from "../workspace/paths.ts";
import { objectJson, objectListText, objectText, uploadJson, uploadText } from "../workspace/render.ts";
import { upload } from "../workspace/upload.ts";
import { shellQuote } from "../shell.ts";
import { examples, globals } from "./root.ts";

/** A 404 from the Workspace API with a next step: look at the parent folder. */
function withParentHint(e: unknown, path: string): unknown {
  return isDbxrError(e, "NotFound") ? e.withHint(`dbxr workspace ls ${shellQuote(remoteParent(path))}`) : e;
}

export function workspaceCommands(ctx: Ctx) {
  const group = new Command("workspace").description(
    "Upload files and folders to the workspace (as workspace FILES, never notebooks), list, inspect, remove",
  );
  examples(group, [
    "dbxr workspace upload ./agent /Workspace/Users/me@example.com/agent",
    "dbxr workspace ls /Users/me@example.com",
  ]);

  group.addCommand(examples(
    new Command("upload")
      .description(
        "Upload a local file or folder as workspace FILES through workspace-files/import-file, so that a " +
          "spark_python_task can run and import them (`workspace import --language PYTHON` would make " +
          "notebooks). A folder goes into REMOTE (created with its parents); a file goes to REMOTE, or into it " +
          "when REMOTE is a folder or ends with /. Unchanged files are skipped (content hashes, kept in " +
          "REMOTE/.dbxr-manifest.json). A different remote file is an error unless --overwrite. " +
          "Left out: .git, __pycache__, .venv, node_modules, *.pyc.",
      )
      .argument("<local>", "local file or folder")
      .argument("<remote>", "workspace path, with or without /Workspace")
      .option("--overwrite", "replace remote files whose content differs")
      .action(async (local, remote, o, c) => {
        normalizeRemotePath(remote); // a bad path is a usage error before any credentials are needed
        const { client } = await connect(ctx, globals(c), "workspace_upload");
        const r = await upload(ctx, client, local, remote, { overwrite: Boolean(o.overwrite) });
        ctx.out.result(uploadJson(r), { text: uploadText });
      }),
    [
      "dbxr workspace upload ./agent /Workspace/Users/me@example.com/agent",
      "dbxr workspace upload train.py /Users/me@example.com/jobs/ --overwrite",
    ],
  ));

  group.addCommand(examples(
    new Command("ls")
      .description("List a folder's direct children (a file's path lists that file)")
      .argument("<path>", "workspace path, with or without /Workspace")
      .action(async (raw, _o, c) => {
        const path = normalizeRemotePath(raw);
        const { client } = await connect(ctx, globals(c), "workspace_ls");
        const objects = await ws.list(client, path).catch((e) => Promise.reject(withParentHint(e, path)));
        ctx.out.result(objects.map(objectJson), { text: objectListText });
      }),
    ["dbxr workspace ls /Users/me@example.com", "dbxr workspace ls /Workspace/Shared --json"],
  ));

  group.addCommand(examples(
    new Command("get-status")
      .description("Show one object: FILE, NOTEBOOK (with its language) or DIRECTORY")
      .argument("<path>", "workspace path, with or without /Workspace")
      .action(async (raw, _o, c) => {
        const path = normalizeRemotePath(raw);
        const { client } = await connect(ctx, globals(c), "workspace_get-status");
        const o = await ws.getStatus(client, path).catch((e) => Promise.reject(withParentHint(e, path)));
        ctx.out.result(objectJson(o), { text: objectText });
      }),
    ["dbxr workspace get-status /Workspace/Users/me@example.com/agent/train.py"],
  ));

  group.addCommand(examples(
    new Command("rm")
      .description("Delete a file, notebook or folder (a non-empty folder needs --recursive)")
      .argument("<path>", "workspace path, with or without /Workspace")
      .option("-r, --recursive", "delete a folder with everything in it")
      .action(async (raw, o, c) => {
        const path = normalizeRemotePath(raw);
        const recursive = Boolean(o.recursive);
        const { client } = await connect(ctx, globals(c), "workspace_rm");
        try {
          await ws.deleteObject(client, path, { recursive });
        } catch (e) {
          if (isDbxrError(e) && e.details.error_code === "DIRECTORY_NOT_EMPTY") {
            const why = e.message.replace(/\.$/, "");
            throw new DbxrError("InvalidArgument", `${path} is a folder that is not empty (${why}).`, {
              hint: `dbxr workspace rm ${shellQuote(path)} --recursive`,
              details: e.details,
            });
          }
          throw withParentHint(e, path);
        }
        ctx.out.result({ status: "deleted", path, recursive }, { text: (r) => `deleted ${r.path}` });
      }),
    [
      "dbxr workspace rm /Users/me@example.com/old.py",
      "dbxr workspace rm /Users/me@example.com/agent --recursive",
    ],
  ));

  return group;
}
