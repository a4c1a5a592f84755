/** docs/API.md is what tools/api_docs.ts makes of the JSDoc, and the rendering of one module. */

import assert from "node:assert/strict";
import { type ModuleNode, renderModule } from "../../tools/api_docs.ts";
import { ROOT, runProgram } from "../helpers/helpers.ts";

Deno.test("docs: API.md regenerates to itself", async () => {
  const run = await runProgram("tools/api_docs.ts", ["--check"], {
    cwd: ROOT,
    permissions: ["--allow-read=.", "--allow-write=docs/API.md", "--allow-run=deno"],
  });
  assert.equal(
    run.code,
    0,
    `docs/API.md does not match the JSDoc of src/: run deno task docs\n${run.stderr}`,
  );
});

Deno.test("docs: a module renders as its doc, then its exports in source order", () => {
  const root = "file:///repo/";
  const at = (line: number) => ({ filename: `${root}src/core/demo.ts`, line, col: 0 });
  const number = { repr: "number", kind: "keyword", value: "number" };
  const node: ModuleNode = {
    module_doc: { doc: "A demo module.\n", tags: [{ kind: "module" }] },
    symbols: [
      {
        name: "Counter",
        declarations: [{
          kind: "class",
          declarationKind: "export",
          location: at(12),
          jsDoc: { doc: "Counts calls." },
          def: {
            constructors: [],
            properties: [
              { name: "total", tsType: number, readonly: true, location: at(14) },
              { name: "hidden", tsType: number, accessibility: "private", location: at(15) },
            ],
            methods: [{ name: "add", kind: "method", functionDef: { params: [] }, location: at(16) }],
          },
        }],
      },
      {
        name: "scale",
        declarations: [{
          kind: "function",
          declarationKind: "export",
          location: at(3),
          jsDoc: { doc: "Multiplies `x` by `by`, as {@linkcode Counter} does." },
          def: {
            params: [
              { kind: "identifier", name: "x", optional: false, tsType: number },
              {
                kind: "assign",
                left: { kind: "identifier", name: "by", optional: false, tsType: number },
                right: "2",
              },
            ],
            returnType: number,
            hasBody: true,
          },
        }],
      },
    ],
  };
  assert.equal(
    renderModule("src/core/demo.ts", node, root),
    [
      "### src/core/demo.ts",
      "",
      "A demo module.",
      "",
      "- **`scale(x: number, by?: number): number`**: Multiplies `x` by `by`, as `Counter` does.",
      "- **`class Counter`**: Counts calls.",
      "  - `readonly total: number`",
      "  - `add()`",
    ].join("\n"),
  );
});
