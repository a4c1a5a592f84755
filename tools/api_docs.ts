/**
 * Writes docs/API.md, the API reference, from the JSDoc of every module under src/.
 *
 * It runs `deno doc --json` over every `.ts` file under `src/`, renders each module's `@module` doc
 * and each export's signature and JSDoc as Markdown, grouped by layer, and passes the result through
 * `deno fmt` so that the file is already formatted. The output has no dates and no absolute paths, so
 * the same sources always give the same file.
 *
 * ```sh
 * deno run --allow-read=. --allow-write=docs/API.md --allow-run=deno tools/api_docs.ts          # writes it
 * deno run --allow-read=. --allow-write=docs/API.md --allow-run=deno tools/api_docs.ts --check  # exit 1 if stale
 * ```
 *
 * Run it from the repository root. {@linkcode renderApi} is the pure part (JSON in, Markdown out).
 *
 * @module
 */

import { errorMessage } from "../src/core/errors.ts";

// ---------------------------------------------------------------------------------------------------
// The JSON that `deno doc --json` emits (version 2), as far as this tool reads it.

/** What `deno doc --json` prints: one node per module, keyed by the module's file URL. */
export interface DocJson {
  readonly version: number;
  readonly nodes: Readonly<Record<string, ModuleNode>>;
}

/** One module: its `@module` doc and its exported symbols. */
export interface ModuleNode {
  readonly module_doc?: JsDoc;
  readonly symbols: readonly DocSymbol[];
}

/** An exported name; a function with overloads has several declarations. */
export interface DocSymbol {
  readonly name: string;
  readonly declarations: readonly Declaration[];
}

/** One declaration of a symbol; `def`'s shape depends on `kind`. */
export interface Declaration {
  readonly kind: string;
  readonly declarationKind?: string;
  readonly location: Location;
  readonly jsDoc?: JsDoc;
  // deno-lint-ignore no-explicit-any -- one of several shapes, read by the renderer of each kind
  readonly def: any;
}

interface Location {
  readonly filename: string;
  readonly line: number;
  readonly col: number;
}

interface JsDoc {
  readonly doc?: string;
  readonly tags?: readonly { kind: string; name?: string; doc?: string; tsType?: TsType }[];
}

/** A type: `kind` says what `value` holds; `repr` is set for the simple kinds only. */
interface TsType {
  readonly kind?: string;
  readonly repr?: string;
  // deno-lint-ignore no-explicit-any -- depends on `kind`, see typeText
  readonly value?: any;
}

interface Param {
  readonly kind: string;
  readonly name?: string;
  readonly optional?: boolean;
  readonly tsType?: TsType;
  readonly readonly?: boolean;
  readonly accessibility?: string;
  readonly left?: Param; // kind "assign": `left = right`
  readonly arg?: Param; // kind "rest"
  readonly props?: readonly { key?: string; arg?: Param }[]; // kind "object"
  readonly elements?: readonly (Param | null)[]; // kind "array"
}

interface TypeParam {
  readonly name: string;
  readonly constraint?: TsType;
  readonly default?: TsType;
}

/** A function's, method's or signature's parameters and result. */
interface Signature {
  readonly params?: readonly Param[];
  readonly returnType?: TsType;
  readonly tsType?: TsType; // call and index signatures put the result here
  readonly typeParams?: readonly TypeParam[];
}

/** A member of a class, an interface or a type literal. */
interface Member extends Signature {
  readonly name?: string;
  readonly kind?: string; // "method", "getter", "setter"
  readonly jsDoc?: JsDoc;
  readonly location?: Location;
  readonly functionDef?: Signature; // class methods
  readonly readonly?: boolean;
  readonly optional?: boolean;
  readonly isStatic?: boolean;
  readonly isAbstract?: boolean;
  readonly accessibility?: string;
}

/** The members of an interface, a class or a type literal. */
interface Members {
  readonly properties?: readonly Member[];
  readonly methods?: readonly Member[];
  readonly callSignatures?: readonly Member[];
  readonly constructors?: readonly Member[];
  readonly indexSignatures?: readonly Member[];
}

/** A class: its members, and `extends` as the base's bare name with its type arguments apart. */
interface ClassDef extends Members {
  readonly isAbstract?: boolean;
  readonly typeParams?: readonly TypeParam[];
  readonly extends?: string;
  readonly superTypeParams?: readonly TsType[];
  readonly implements?: readonly TsType[];
}

// ---------------------------------------------------------------------------------------------------
// Rendering: pure functions from that JSON to Markdown.

/** The layers, in the order the reference lists them; any other folder comes after, alphabetically. */
const LAYERS = [
  "src/core/",
  "src/engines/cpu/",
  "src/engines/gpu/",
  "src/app/",
  "src/programs/run/",
  "src/programs/compare/",
  "src/programs/bench/",
];

const INTRO = `# API reference

Generated from the JSDoc by \`deno task docs\` (\`tools/api_docs.ts\`); do not edit by hand. Every exported
symbol of \`src/\`, module by module, grouped by layer: each module's own doc, then its exports in source
order. Signatures are TypeScript; a parameter with a default value shows as optional (\`name?\`), and
private class members are left out.`;

/**
 * The whole reference, unformatted, from `deno doc --json`'s output. `root` is the repository's file
 * URL (ending in `/`); module paths are shown relative to it.
 */
export function renderApi(doc: DocJson, root: string): string {
  const modules = Object.keys(doc.nodes)
    .filter((url) => url.startsWith(root))
    .map((url) => ({ url, path: url.slice(root.length) }))
    .sort((a, b) => compareModulePaths(a.path, b.path));
  const layers = new Map<string, { url: string; path: string }[]>();
  for (const module of modules) {
    const layer = layerOf(module.path);
    layers.set(layer, [...layers.get(layer) ?? [], module]);
  }
  const order = [...layers.keys()].sort((a, b) => layerRank(a) - layerRank(b) || compare(a, b));

  const contents = order.map((layer) => {
    const links = layers.get(layer)!.map((m) => `[${m.path.slice(layer.length)}](#${slug(m.path)})`);
    return `- [${layer}](#${slug(layer)}): ${links.join(", ")}`;
  });
  const sections = order.map((layer) =>
    [
      `## ${layer}`,
      ...layers.get(layer)!.map((m) => renderModule(m.path, doc.nodes[m.url], root)),
    ].join("\n\n")
  );
  return [INTRO, "## Contents", contents.join("\n"), ...sections].join("\n\n") + "\n";
}

/** One module's section: a heading, the module doc, then a list of its exports in source order. */
export function renderModule(path: string, node: ModuleNode, root: string): string {
  const file = root + path;
  const symbols = node.symbols
    .flatMap((symbol) =>
      declarationsToShow(symbol).map((declaration) => ({ name: symbol.name, declaration }))
    )
    .sort((a, b) => compareLocations(a.declaration.location, b.declaration.location, file));
  const parts = [`### ${path}`];
  const moduleDoc = docText(node.module_doc);
  if (moduleDoc) parts.push(moduleDoc);
  if (symbols.length === 0) parts.push("No exports.");
  else {
    parts.push(
      symbols.map(({ name, declaration }) => {
        const from = declaration.location.filename;
        const note = from === file || !from.startsWith(root) ? "" : ` (from ${from.slice(root.length)})`;
        return renderDeclaration(name, declaration, note);
      }).join("\n"),
    );
  }
  return parts.join("\n\n");
}

/** A function's overloads without its implementation signature; every declaration otherwise. */
function declarationsToShow(symbol: DocSymbol): readonly Declaration[] {
  const overloads = symbol.declarations.filter((d) => d.kind === "function" && !d.def.hasBody);
  if (overloads.length === 0) return symbol.declarations;
  return symbol.declarations.filter((d) => d.kind !== "function" || !d.def.hasBody);
}

/** One export as a list item: its signature in bold, its doc, then its members as a nested list. */
function renderDeclaration(name: string, declaration: Declaration, note: string): string {
  const { kind, def } = declaration;
  let signature: string;
  let members: Member[] = [];
  switch (kind) {
    case "function":
      signature = name + signatureText(def);
      break;
    case "class":
      signature = classHeader(name, def);
      members = classMembers(def);
      break;
    case "interface":
      signature = `interface ${name}${typeParamsText(def.typeParams)}` +
        (def.extends?.length ? ` extends ${def.extends.map(typeText).join(", ")}` : "");
      members = literalMembers(def);
      break;
    case "typeAlias":
    case "variable": {
      signature = kind === "typeAlias"
        ? `type ${name}${typeParamsText(def.typeParams)} = `
        : `${def.kind ?? "const"} ${name}: `;
      const type: TsType | undefined = def.tsType;
      if (!type) signature = signature.slice(0, -2);
      else if (expands(type, signature + typeText(type))) {
        signature += "{ … }";
        members = literalMembers(type.value);
      } else signature += typeText(type);
      break;
    }
    case "enum":
      signature = `enum ${name}`;
      members = def.members.map((m: Member & { init?: TsType }) => ({
        ...m,
        name: m.init ? `${m.name} = ${typeText(m.init)}` : m.name,
        kind: "enumMember",
      }));
      break;
    case "namespace":
      return [
        item(0, `**${code(`namespace ${name}`)}**${note}`, declaration.jsDoc),
        ...def.elements.flatMap((element: DocSymbol) =>
          element.declarations.map((d) => indent(renderDeclaration(element.name, d, ""), 1))
        ),
      ].join("\n");
    default:
      signature = `${kind} ${name}`;
  }
  return [item(0, `**${code(signature)}**${note}`, declaration.jsDoc), ...memberItems(members, 1)].join("\n");
}

/**
 * Members as list items in source order. A property whose type is an object literal too long for one
 * line, or with documented fields, shows as `name: { … }` with its fields nested below.
 */
function memberItems(members: readonly Member[], depth: number): string[] {
  return [...members].sort((a, b) => compareLocations(a.location, b.location, "")).flatMap((member) => {
    const text = memberText(member);
    if (member.kind !== "property" || !member.tsType || !expands(member.tsType, text)) {
      return [item(depth, code(text), member.jsDoc)];
    }
    const head = `${memberText({ ...member, tsType: undefined })}: { … }`;
    return [
      item(depth, code(head), member.jsDoc),
      ...memberItems(literalMembers(member.tsType.value), depth + 1),
    ];
  });
}

/** Whether an object literal type is better shown field by field than inline in `text`. */
function expands(type: TsType, text: string): boolean {
  return type.kind === "typeLiteral" && literalMembers(type.value).length > 0 &&
    (text.length > 100 || hasDocs(type.value));
}

function classHeader(name: string, def: ClassDef): string {
  const base = def.extends ? ` extends ${def.extends}${typeArgsText(def.superTypeParams)}` : "";
  const implemented = def.implements?.length ? ` implements ${def.implements.map(typeText).join(", ")}` : "";
  return `${def.isAbstract ? "abstract " : ""}class ${name}${
    typeParamsText(def.typeParams)
  }${base}${implemented}`;
}

/** A class's public members: constructors, properties, methods, index signatures. */
function classMembers(def: Members): Member[] {
  const isPublic = (m: Member) => m.accessibility !== "private" && !m.name?.startsWith("#");
  return [
    ...(def.constructors ?? []).filter(isPublic).map((m) => ({ ...m, kind: "constructor" })),
    ...(def.properties ?? []).filter(isPublic).map((m) => ({ ...m, kind: "property" })),
    ...(def.methods ?? []).filter(isPublic).map((m) => ({ ...m, ...m.functionDef, functionDef: undefined })),
    ...(def.indexSignatures ?? []).map((m) => ({ ...m, kind: "index" })),
  ];
}

/** The members of an interface or a type literal. */
function literalMembers(def: Members): Member[] {
  return [
    ...(def.properties ?? []).map((m) => ({ ...m, kind: "property" })),
    ...(def.methods ?? []),
    ...(def.callSignatures ?? []).map((m) => ({ ...m, kind: "call" })),
    ...(def.constructors ?? []).map((m) => ({ ...m, kind: "new" })),
    ...(def.indexSignatures ?? []).map((m) => ({ ...m, kind: "index" })),
  ];
}

/** Whether any member of a type literal has a doc, which an inline `{ ... }` would lose. */
function hasDocs(def: Members): boolean {
  return [def.properties, def.methods, def.callSignatures, def.constructors, def.indexSignatures]
    .some((members) => members?.some((m) => m.jsDoc?.doc));
}

/** A member's one-line signature. */
function memberText(m: Member): string {
  const modifiers = (m.isStatic ? "static " : "") + (m.isAbstract ? "abstract " : "") +
    (m.accessibility === "protected" ? "protected " : "") + (m.readonly ? "readonly " : "");
  const optional = m.optional ? "?" : "";
  switch (m.kind) {
    case "constructor":
      return `constructor(${paramsText(m.params)})`;
    case "property":
      return `${modifiers}${m.name}${optional}${m.tsType ? `: ${typeText(m.tsType)}` : ""}`;
    case "index":
      return `${modifiers}[${paramsText(m.params)}]: ${typeText(m.tsType)}`;
    case "call":
      return signatureText(m);
    case "new":
      return `new ${signatureText(m)}`;
    case "getter":
      return `${modifiers}get ${m.name}${signatureText(m)}`;
    case "setter":
      return `${modifiers}set ${m.name}(${paramsText(m.params)})`;
    case "enumMember":
      return m.name ?? "";
    default: // a method
      return `${modifiers}${m.name}${optional}${signatureText(m)}`;
  }
}

/** `<T>(a: A, b?: B): R`. */
function signatureText(s: Signature): string {
  const result = s.returnType ?? s.tsType;
  return `${typeParamsText(s.typeParams)}(${paramsText(s.params)})${result ? `: ${typeText(result)}` : ""}`;
}

function typeParamsText(params: readonly TypeParam[] | undefined): string {
  if (!params?.length) return "";
  return `<${
    params.map((p) =>
      p.name + (p.constraint ? ` extends ${typeText(p.constraint)}` : "") +
      (p.default ? ` = ${typeText(p.default)}` : "")
    ).join(", ")
  }>`;
}

/** `<A, B>`, or nothing. */
function typeArgsText(args: readonly TsType[] | undefined): string {
  return args?.length ? `<${args.map(typeText).join(", ")}>` : "";
}

function paramsText(params: readonly Param[] | undefined): string {
  return (params ?? []).map((p) => paramText(p)).join(", ");
}

/** One parameter; a default value (`x = 1`) shows as optional (`x?`), as in a declaration file. */
function paramText(p: Param): string {
  const modifiers = (p.accessibility === "public" ? "public " : "") + (p.readonly ? "readonly " : "");
  const type = p.tsType ? `: ${typeText(p.tsType)}` : "";
  switch (p.kind) {
    case "assign":
      return modifiers + paramText({ ...p.left!, optional: true });
    case "rest":
      return `...${paramText(p.arg!)}${type}`;
    case "object":
      return `{ ${
        (p.props ?? []).map((prop) => prop.key ?? `...${paramText(prop.arg!)}`).join(", ")
      } }${type}`;
    case "array":
      return `[${(p.elements ?? []).map((e) => (e ? paramText(e) : "")).join(", ")}]${type}`;
    default:
      return `${modifiers}${p.name}${p.optional ? "?" : ""}${type}`;
  }
}

/** A type as TypeScript source. */
export function typeText(t: TsType | undefined): string {
  if (!t) return "unknown";
  const v = t.value;
  switch (t.kind) {
    case "keyword":
      return v;
    case "literal":
      switch (v.kind) {
        case "string":
          return JSON.stringify(v.string);
        case "bigInt":
          return `${v.string}n`;
        case "template":
          return "`" +
            v.tsTypes.map((part: TsType) =>
              part.kind === "literal" && part.value.kind === "string"
                ? part.value.string
                : `\${${typeText(part)}}`
            ).join("") + "`";
        default:
          return String(v[v.kind]);
      }
    case "typeRef":
      return v.typeName + typeArgsText(v.typeParams);
    case "union":
      return v.map((member: TsType) => operand(member, FUNCTION_LIKE)).join(" | ");
    case "intersection":
      return v.map((member: TsType) => operand(member, COMPOUND)).join(" & ");
    case "array":
      return `${operand(v, OPERATOR_LIKE)}[]`;
    case "tuple":
      return `[${v.map(typeText).join(", ")}]`;
    case "typeOperator":
      return `${v.operator} ${operand(v.tsType, COMPOUND)}`;
    case "parenthesized":
      return `(${typeText(v)})`;
    case "rest":
      return `...${typeText(v)}`;
    case "optional":
      return `${typeText(v)}?`;
    case "typeQuery":
      return `typeof ${typeof v === "string" ? v : t.repr}`;
    case "this":
      return "this";
    case "fnOrConstructor":
      return `${v.constructor ? "new " : ""}${typeParamsText(v.typeParams)}(${paramsText(v.params)}) => ${
        typeText(v.tsType)
      }`;
    case "conditional":
      return `${typeText(v.checkType)} extends ${typeText(v.extendsType)} ? ${typeText(v.trueType)} : ${
        typeText(v.falseType)
      }`;
    case "infer":
      return `infer ${v.typeParam.name}${
        v.typeParam.constraint ? ` extends ${typeText(v.typeParam.constraint)}` : ""
      }`;
    case "indexedAccess":
      return `${operand(v.objType, OPERATOR_LIKE)}[${typeText(v.indexType)}]`;
    case "mapped": {
      const flag = (f: unknown, text: string) => (f === true ? text : f ? `${f}${text}` : "");
      return `{ ${flag(v.readonly, "readonly ")}[${v.typeParam.name} in ${typeText(v.typeParam.constraint)}${
        v.nameType ? ` as ${typeText(v.nameType)}` : ""
      }]${flag(v.optional, "?")}: ${typeText(v.tsType)} }`;
    }
    case "typeLiteral": {
      const members = literalMembers(v).map(memberText);
      return members.length ? `{ ${members.join("; ")} }` : "{}";
    }
    case "typePredicate":
      return `${v.asserts ? "asserts " : ""}${v.param.type === "this" ? "this" : v.param.name}${
        v.type ? ` is ${typeText(v.type)}` : ""
      }`;
    case "importType":
      return `import(${JSON.stringify(v.specifier)})${v.qualifier ? `.${v.qualifier}` : ""}${
        typeArgsText(v.typeParams)
      }`;
    default:
      return t.repr ?? "unknown";
  }
}

// Kinds of type that need parentheses as an operand: deno doc keeps the source's parentheses as
// "parenthesized" nodes, but it writes the inferred type of `[...] as const` as an unparenthesized union
// inside an array.
const FUNCTION_LIKE = ["fnOrConstructor", "conditional"];
const COMPOUND = ["union", "intersection", ...FUNCTION_LIKE];
const OPERATOR_LIKE = ["typeOperator", "infer", ...COMPOUND];

function operand(t: TsType, loose: readonly string[]): string {
  return loose.includes(t.kind ?? "") ? `(${typeText(t)})` : typeText(t);
}

/** A list item at `depth`: the head, then the doc (first paragraph on the same line when it is prose). */
function item(depth: number, head: string, jsDoc: JsDoc | undefined): string {
  const doc = docText(jsDoc);
  const startsWithBlock = /^(```|[-*+>#|] |\d+\. )/.test(doc);
  const text = !doc ? head : startsWithBlock ? `${head}\n\n${doc}` : `${head}: ${doc}`;
  return indent(`- ${indent(text, 1).trimStart()}`, depth);
}

/** A JSDoc as Markdown: `{@link X}` becomes `` `X` ``, and tags other than `@module` follow the text. */
function docText(jsDoc: JsDoc | undefined): string {
  const parts = [jsDoc?.doc?.trim() ?? ""];
  for (const tag of jsDoc?.tags ?? []) {
    const doc = tag.doc?.trim() ?? "";
    switch (tag.kind) {
      case "module":
        break;
      case "deprecated":
        parts.push(`**Deprecated.** ${doc}`.trim());
        break;
      case "param":
        parts.push(`${code(tag.name ?? "")}: ${doc}`);
        break;
      case "return":
        parts.push(`Returns ${doc}`);
        break;
      case "throws":
        parts.push(`Throws${tag.tsType ? ` ${code(typeText(tag.tsType))}` : ""}${doc ? `: ${doc}` : ""}`);
        break;
      case "example":
        parts.push(`Example: ${doc}`);
        break;
      default:
        parts.push(`@${tag.kind}${tag.name ? ` ${tag.name}` : ""} ${doc}`.trim());
    }
  }
  return replaceLinks(parts.filter((p) => p !== "").join("\n\n"));
}

/** `{@link X}`, `{@linkcode X}` and `{@linkplain X}` as `` `X` `` (or their label, when they have one). */
function replaceLinks(text: string): string {
  return text.replace(
    /\{@link(code|plain)?\s+([^\s|}]+)(?:\s*\|\s*|\s+)?([^}]*)\}/g,
    (_, style, target, label) => {
      if (!label) return code(target);
      return style === "code" ? code(label.trim()) : label.trim();
    },
  );
}

/** `text` as a Markdown code span, even when it holds backticks. */
function code(text: string): string {
  return text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``;
}

function indent(text: string, depth: number): string {
  const pad = "  ".repeat(depth);
  return text.split("\n").map((line) => (line ? pad + line : line)).join("\n");
}

/** The layer a module belongs to: one of {@linkcode LAYERS}, or else its folder. */
function layerOf(path: string): string {
  return LAYERS.find((layer) => path.startsWith(layer)) ?? path.slice(0, path.lastIndexOf("/") + 1);
}

function layerRank(layer: string): number {
  const rank = LAYERS.indexOf(layer);
  return rank === -1 ? LAYERS.length : rank;
}

/** Folder by folder: a folder's own files come before its subfolders'. */
function compareModulePaths(a: string, b: string): number {
  const split = (
    path: string,
  ) => [path.slice(0, path.lastIndexOf("/")), path.slice(path.lastIndexOf("/") + 1)];
  const [folderA, fileA] = split(a);
  const [folderB, fileB] = split(b);
  return compare(folderA, folderB) || compare(fileA, fileB);
}

/** Source order; declarations in `file` come before those from elsewhere (re-exports). */
function compareLocations(a: Location | undefined, b: Location | undefined, file: string): number {
  if (!a || !b) return a ? -1 : b ? 1 : 0;
  return Number(a.filename !== file) - Number(b.filename !== file) || compare(a.filename, b.filename) ||
    a.line - b.line || a.col - b.col;
}

/** Code-unit order, the same on every machine and locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The anchor GitHub gives a heading: lower case, punctuation other than `-` and `_` dropped. */
function slug(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

// ---------------------------------------------------------------------------------------------------
// The program: run deno doc, render, format, then write or compare.

const ROOT = new URL("../", import.meta.url);
const OUTPUT = "docs/API.md";

/**
 * The deno to run: this one, when the permissions allow it. `--allow-run=deno` grants the `deno` found
 * on PATH, which is not `Deno.execPath()` where that is a link to the real binary.
 */
function denoCommand(): string {
  const self = Deno.execPath();
  return Deno.permissions.querySync({ name: "run", command: self }).state === "granted" ? self : "deno";
}

/** Every `.ts` file under `folder` (repository-relative), sorted. */
async function tsFiles(folder: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL(folder, ROOT))) {
    const path = `${folder}${entry.name}`;
    if (entry.isDirectory) files.push(...await tsFiles(`${path}/`));
    else if (entry.isFile && entry.name.endsWith(".ts")) files.push(path);
  }
  return files.sort(compare);
}

/** Runs deno with `args` in the repository root, feeding it `input`; its stdout, or an error. */
async function deno(args: string[], input?: string): Promise<string> {
  const child = new Deno.Command(denoCommand(), {
    args,
    cwd: ROOT,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  if (!output.success) throw new Error(`deno ${args[0]} failed:\n${decoder.decode(output.stderr)}`);
  return decoder.decode(output.stdout);
}

/** The reference as it should be: deno doc over src/, rendered, then formatted as deno fmt would. */
export async function generate(): Promise<string> {
  const doc: DocJson = JSON.parse(await deno(["doc", "--json", ...await tsFiles("src/")]));
  if (doc.version !== 2) {
    throw new Error(`deno doc --json gave version ${doc.version}; this tool reads version 2`);
  }
  return await deno(["fmt", "--ext=md", "-"], renderApi(doc, ROOT.href));
}

async function main(args: string[]): Promise<number> {
  const check = args.includes("--check");
  if (args.some((arg) => arg !== "--check")) {
    console.error("usage: tools/api_docs.ts [--check]");
    return 2;
  }
  const wanted = await generate();
  const path = new URL(OUTPUT, ROOT);
  if (check) {
    const current = await Deno.readTextFile(path).catch((error) => {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    });
    if (current === wanted) return 0;
    console.error(`${OUTPUT} is out of date: run deno task docs`);
    return 1;
  }
  await Deno.writeTextFile(path, wanted);
  console.log(`wrote ${OUTPUT} (${new TextEncoder().encode(wanted).length} bytes)`);
  return 0;
}

if (import.meta.main) {
  Deno.exit(
    await main(Deno.args).catch((error) => {
      console.error(`tools/api_docs.ts: ${errorMessage(error)}`);
      return 1;
    }),
  );
}
