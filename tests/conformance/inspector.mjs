// graphql-inspector's diff of the committed schema.graphql against the live schema, read by
// introspection from the running server.
import { readFileSync } from "node:fs";
import { diff } from "@graphql-inspector/core";
import { buildClientSchema, buildSchema, getIntrospectionQuery, printSchema } from "graphql";
import { plan, runChecks } from "./harness.mjs";

await runChecks({
  diff: async () => {
    const response = await fetch(plan.http, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
      body: JSON.stringify({
        query: getIntrospectionQuery({ specifiedByUrl: true, directiveIsRepeatable: true }),
      }),
    });
    const body = await response.json();
    // Through SDL, so directive usages (@specifiedBy) are compared as the file has them.
    const live = buildSchema(printSchema(buildClientSchema(body.data)));
    const committed = buildSchema(readFileSync(plan.schemaFile, "utf8"));
    const changes = await diff(committed, live);
    return { changes: changes.map((c) => `${c.criticality.level}: ${c.message}`) };
  },
});
