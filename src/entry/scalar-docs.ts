// Node: /api/docs is Scalar's API reference, with its script read from the installed package.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { Scalar } from "@scalar/hono-api-reference";
import { DOCS_SCRIPT_PATH, type ApiDocsPage } from "../routes/docs";

export function scalarDocs(): ApiDocsPage {
  let script: Promise<string> | undefined;
  const file = () => createRequire(import.meta.url).resolve("@scalar/api-reference/browser/standalone.js");
  return {
    // No fonts or scripts from a CDN: the page works offline.
    page: Scalar({
      url: "/api/openapi.json",
      cdn: DOCS_SCRIPT_PATH,
      pageTitle: "mend API",
      withDefaultFonts: false,
      hideClientButton: true,
    }),
    script: () => (script ??= readFile(file(), "utf8")),
  };
}
