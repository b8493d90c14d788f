// The `uc` group: thin commands over src/unity and src/api/unity. The seed checked catalogs and schemas
// with `databricks unity-catalog ...` before registering a model; ensure-schema does the check and the create.

import { Command } from "@commander-js/extra-typings";
import { connect } from "../api/connect.ts";
import * as unity from "../api/unity.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError, isDbxrError } from "../errors.ts";
import { catalogJson, catalogListText, schemaJson, schemaListText } from "../unity/render.ts";
import { checkCatalogName, ensureSchema, parseSchemaName } from "../unity/schemas.ts";
import { examples, globals } from "./root.ts";

export function ucCommands(ctx: Ctx) {
  const group = new Command("uc").description(
    "Unity Catalog: list catalogs and schemas, make sure a schema exists",
  );
  examples(group, ["dbxr uc catalogs", "dbxr uc ensure-schema main.agents"]);

  group.addCommand(examples(
    new Command("catalogs")
      .description("List the catalogs you can see")
      .action(async (_o, c) => {
        const { client } = await connect(ctx, globals(c), "uc_catalogs");
        const catalogs = await unity.listCatalogs(client, { signal: ctx.signal });
        ctx.out.result(catalogs.map(catalogJson), { text: catalogListText });
      }),
    ["dbxr uc catalogs", "dbxr uc catalogs --json"],
  ));

  group.addCommand(examples(
    new Command("schemas")
      .description("List the schemas of a catalog")
      .argument("<catalog>")
      .action(async (catalog, _o, c) => {
        checkCatalogName(catalog); // "main.default" here is a usage error, not a 404

        const { client } = await connect(ctx, globals(c), "uc_schemas");
        try {
          const schemas = await unity.listSchemas(client, catalog, { signal: ctx.signal });
          ctx.out.result(schemas.map(schemaJson), { text: schemaListText });
        } catch (e) {
          if (isDbxrError(e, "NotFound")) {
            throw new DbxrError("NotFound", e.message, { hint: "dbxr uc catalogs", details: e.details });
          }
          throw e;
        }
      }),
    ["dbxr uc schemas main"],
  ));

  group.addCommand(examples(
    new Command("ensure-schema")
      .description(
        "Make sure CATALOG.SCHEMA exists: get it, create it when missing. Prints {full_name, created}. " +
          "A missing catalog is NotFound (exit 4); no CREATE SCHEMA privilege is PermissionDenied (exit 3).",
      )
      .argument("<catalog.schema>")
      .option("--comment <text>", "comment for a schema that gets created")
      .action(async (name, o, c) => {
        parseSchemaName(name);
        const { client } = await connect(ctx, globals(c), "uc_ensure-schema");
        const r = await ensureSchema(client, name, { comment: o.comment });
        ctx.out.result(r, { text: (x) => `${x.full_name} ${x.created ? "created" : "already exists"}` });
      }),
    ["dbxr uc ensure-schema main.agents", 'dbxr uc ensure-schema main.agents --comment "agent models"'],
  ));

  return group;
}
