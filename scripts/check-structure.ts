/**
 * The house rules a reviewer should not have to count by hand (CONTRIBUTING.md, "Structure"):
 *
 * - no file in `src/` (generated Prisma code aside) over 450 lines;
 * - no function over 150 lines of its own: a nested function of 8 or more lines is counted on its own
 *   and taken out of the function around it, so a `createX` closure is judged by its own body;
 * - `src/core` and `src/channels` import nothing from `src/db` (the core declares its storage ports,
 *   `db/` implements them);
 * - no import cycles among the files of `src/` (type-only imports included: a cycle of types is
 *   still a knot a reader must untie);
 * - nothing in `src/` loads Prisma's client (`@prisma/*` or the generated client; type-only imports
 *   aside): the bot runs on the message connection alone, and the client was ~40 MB of its memory.
 *
 * Prints each breach, then one line of figures; exits 1 on any breach. `npm run check:structure`.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const MAX_FILE_LINES = 450;
const MAX_FUNCTION_LINES = 150;
const NESTED_COUNTED_APART = 8;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "generated") out.push(...sourceFiles(path));
    } else if (name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

type FunctionSize = { name: string; line: number; whole: number; own: number };

function isFunction(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessor(node) ||
    ts.isSetAccessor(node)
  );
}

function functionName(node: ts.FunctionLikeDeclaration): string {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isCallExpression(parent)) {
    const callee = parent.expression.getText();
    return `(callback of ${callee.length > 40 ? `${callee.slice(0, 40)}…` : callee})`;
  }
  return "(anonymous)";
}

function measureFunctions(file: ts.SourceFile): FunctionSize[] {
  const sizes: FunctionSize[] = [];
  const lines = (node: ts.Node) =>
    file.getLineAndCharacterOfPosition(node.getEnd()).line -
    file.getLineAndCharacterOfPosition(node.getStart(file)).line +
    1;
  // Returns the lines its nested functions take away from the function around it.
  const visit = (node: ts.Node): number => {
    if (isFunction(node)) {
      const whole = lines(node);
      let nested = 0;
      node.forEachChild((child) => {
        nested += visit(child);
      });
      sizes.push({
        name: functionName(node),
        line: file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1,
        whole,
        own: whole - nested,
      });
      return whole >= NESTED_COUNTED_APART ? whole : 0;
    }
    let taken = 0;
    node.forEachChild((child) => {
      taken += visit(child);
    });
    return taken;
  };
  visit(file);
  return sizes;
}

/** The modules a file imports; with `runtimeOnly`, not those imported only as types (erased when built). */
function importsOf(file: ts.SourceFile, opts: { runtimeOnly?: boolean } = {}): string[] {
  const specs: string[] = [];
  const visit = (node: ts.Node) => {
    const typeOnly =
      (ts.isImportDeclaration(node) && node.importClause?.isTypeOnly === true) ||
      (ts.isExportDeclaration(node) && node.isTypeOnly);
    if (opts.runtimeOnly && typeOnly) {
      // erased at build
    } else if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) specs.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      specs.push(node.arguments[0].text);
    }
    node.forEachChild(visit);
  };
  visit(file);
  return specs;
}

function resolveLocal(from: string, spec: string, known: Set<string>): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, base.replace(/\.(m?js)$/, ".ts"), `${base}.ts`, join(base, "index.ts")]) {
    if (known.has(candidate)) return candidate;
  }
  return undefined;
}

/** Tarjan's strongly connected components; every component of two or more files is a cycle. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const connect = (v: string) => {
    order.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!order.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, order.get(w)!));
    }
    if (low.get(v) === order.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!order.has(v)) connect(v);
  return found;
}

const files = sourceFiles(join(root, "src"));
const known = new Set(files);
const graph = new Map<string, string[]>();
const breaches: string[] = [];
let longestFile = { path: "", lines: 0 };
let longestFunction = { where: "", own: 0 };

for (const path of files) {
  const text = readFileSync(path, "utf8");
  const rel = relative(root, path);
  const lineCount = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  if (lineCount > longestFile.lines) longestFile = { path: rel, lines: lineCount };
  if (lineCount > MAX_FILE_LINES) breaches.push(`${rel}: ${lineCount} lines (at most ${MAX_FILE_LINES})`);
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  for (const fn of measureFunctions(source)) {
    if (fn.own > longestFunction.own) longestFunction = { where: `${rel}:${fn.line} ${fn.name}`, own: fn.own };
    if (fn.own > MAX_FUNCTION_LINES) {
      breaches.push(
        `${rel}:${fn.line} ${fn.name}: ${fn.own} lines of its own (${fn.whole} in all; at most ${MAX_FUNCTION_LINES})`,
      );
    }
  }
  for (const spec of importsOf(source, { runtimeOnly: true })) {
    if (/^@prisma\/|\/generated\/prisma\//.test(spec) && !rel.startsWith("src/generated/")) {
      breaches.push(`${rel} loads ${spec}: the bot does not load Prisma's client (src/db/README.md)`);
    }
  }
  const targets: string[] = [];
  for (const spec of importsOf(source)) {
    const target = resolveLocal(path, spec, known);
    if (!target) continue;
    targets.push(target);
    const to = relative(root, target);
    if ((rel.startsWith("src/core/") || rel.startsWith("src/channels/")) && to.startsWith("src/db/")) {
      breaches.push(`${rel} imports ${to}: the core and the channels reach storage only through the core's ports`);
    }
  }
  graph.set(path, targets);
}

const knots = cycles(graph);
for (const knot of knots) breaches.push(`import cycle: ${knot.map((p) => relative(root, p)).join(" ↔ ")}`);

for (const breach of breaches) console.log(breach);
console.log(
  `${files.length} files; longest ${longestFile.path} (${longestFile.lines} lines); ` +
    `longest function ${longestFunction.where} (${longestFunction.own} lines of its own); ` +
    `${knots.length} import cycles; ${breaches.length} breaches`,
);
process.exit(breaches.length > 0 ? 1 : 0);
