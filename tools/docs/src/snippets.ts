/**
 * The TypeScript snippets of the documentation, compiled against the packages' sources so a doc
 * cannot show an API that does not exist (or no longer does). Every ```ts (or ```typescript)
 * block of README.md, packages/* /README.md, tools/* /README.md and any .md under docs/ — a new
 * file is picked up by being there — becomes a module of its own in a generated project, which
 * the TypeScript compiler checks with the repository's strict settings. Two words after the
 * language change that, and should stay rare:
 *
 *   ```ts continue   the block continues the previous one of the same file (a guide in steps),
 *                    so it sees its imports and declarations;
 *   ```ts skip       the block is not compiled (a fragment that cannot stand alone).
 *
 * A block whose first line is a file name comment (`// telemetry.ts`) is written under that name,
 * next to the other named blocks of its Markdown file, so a guide that shows two files can import
 * one from the other (`import { sdk } from './telemetry.js'`).
 *
 * A diagnostic is reported at the Markdown file and line it came from.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

export interface Snippet {
  /** The Markdown file, relative to the repository root. */
  file: string;
  /** The line of the first code line in that file (1-based). */
  line: number;
  code: string;
  mode: 'module' | 'continue' | 'skip';
}

/** One generated module: the snippets it holds, in order. */
export interface SnippetModule {
  name: string;
  parts: Snippet[];
}

export interface SnippetDiagnostic {
  /** `file:line` in the Markdown, or the generated file when it maps to none. */
  where: string;
  message: string;
}

/** A first line such as `// telemetry.ts`: the block is that file. */
const NAMED_FILE = /^\/\/\s*([A-Za-z0-9_-]+\.ts)\s*$/;

const FENCE = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript)\b([^\n]*)$/;

/** The Markdown files whose snippets are compiled. */
export function markdownFiles(root: string): string[] {
  const files: string[] = [];
  if (existsSync(join(root, 'README.md'))) files.push('README.md');
  for (const group of ['packages', 'tools']) {
    if (!existsSync(join(root, group))) continue;
    for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
      const readme = join(group, entry.name, 'README.md');
      if (entry.isDirectory() && existsSync(join(root, readme))) files.push(readme);
    }
  }
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  if (existsSync(join(root, 'docs'))) walk('docs');
  return files.sort();
}

/** The ts blocks of one Markdown text. */
export function extractSnippets(markdown: string, file: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (open === null) continue;
    const [, indent, fence, , info] = open;
    const words = info!.trim().split(/\s+/).filter(Boolean);
    const unknown = words.filter((word) => word !== 'continue' && word !== 'skip');
    if (unknown.length > 0) {
      throw new Error(`${file}:${i + 1}: unknown word "${unknown[0]}" after the ts fence; use "continue" or "skip".`);
    }
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j]!;
      if (line.trim().startsWith(fence!) && line.trim().replace(/[`~]/g, '') === '') break;
      body.push(line.startsWith(indent!) ? line.slice(indent!.length) : line);
    }
    if (j === lines.length) throw new Error(`${file}:${i + 1}: this ts block is never closed.`);
    snippets.push({
      file,
      line: i + 2,
      code: body.join('\n'),
      mode: words.includes('skip') ? 'skip' : words.includes('continue') ? 'continue' : 'module',
    });
    i = j;
  }
  return snippets;
}

/** Groups snippets into modules: each starts one, except those that continue the previous. */
export function snippetModules(snippets: readonly Snippet[]): SnippetModule[] {
  const modules: SnippetModule[] = [];
  for (const snippet of snippets) {
    if (snippet.mode === 'skip') continue;
    const last = modules.at(-1);
    if (snippet.mode === 'continue') {
      if (last === undefined || last.parts[0]!.file !== snippet.file) {
        throw new Error(`${snippet.file}:${snippet.line - 1}: "ts continue" needs an earlier ts block in the same file.`);
      }
      last.parts.push(snippet);
      continue;
    }
    const slug = snippet.file.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();
    const named = NAMED_FILE.exec(snippet.code.split('\n', 1)[0]!);
    // One folder per Markdown file: its named blocks import each other by relative path.
    modules.push({ name: `${slug}/${named === null ? `line-${snippet.line}.ts` : named[1]}`, parts: [snippet] });
  }
  return modules;
}

/** Where a line of a generated module came from. */
interface Origin {
  file: string;
  line: number;
}

function moduleText(module: SnippetModule): { text: string; origins: (Origin | undefined)[] } {
  const out: string[] = [];
  const origins: (Origin | undefined)[] = [];
  for (const part of module.parts) {
    out.push(`// ${part.file}:${part.line}`);
    origins.push(undefined);
    part.code.split('\n').forEach((code, k) => {
      out.push(code);
      origins.push({ file: part.file, line: part.line + k });
    });
  }
  // Every snippet is a module of its own, even one without imports: no shared global scope.
  out.push('export {};');
  origins.push(undefined);
  return { text: out.join('\n'), origins };
}

/**
 * Writes the modules into `dir` (emptied first) and compiles them; returns every diagnostic,
 * mapped back to Markdown. `sources` maps each `@pgqueue/*` specifier to its source entry, so the
 * snippets compile against the code as it is, with no build.
 */
export function checkSnippets(
  modules: readonly SnippetModule[],
  dir: string,
  sources: Record<string, string>,
): SnippetDiagnostic[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // ESM, so snippets may use top-level await as the docs do.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }, null, 2));
  const originsByFile = new Map<string, (Origin | undefined)[]>();
  for (const module of modules) {
    const { text, origins } = moduleText(module);
    const path = join(dir, module.name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    originsByFile.set(path, origins);
  }
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    skipLibCheck: true,
    noEmit: true,
    baseUrl: dir,
    paths: Object.fromEntries(Object.entries(sources).map(([specifier, source]) => [specifier, [source]])),
  };
  const program = ts.createProgram([...originsByFile.keys()], options);
  const diagnostics: SnippetDiagnostic[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const file = diagnostic.file;
    if (file === undefined || diagnostic.start === undefined) {
      diagnostics.push({ where: '(program)', message });
      continue;
    }
    const { line } = file.getLineAndCharacterOfPosition(diagnostic.start);
    const origin = originsByFile.get(file.fileName)?.[line];
    diagnostics.push({
      where: origin === undefined ? `${relative(process.cwd(), file.fileName)}:${line + 1}` : `${origin.file}:${origin.line}`,
      message,
    });
  }
  return diagnostics;
}

/** Every snippet of the repository at `root`, checked in `root/tools/docs/.snippets`. */
export function checkRepository(root: string): { modules: SnippetModule[]; diagnostics: SnippetDiagnostic[] } {
  const snippets = markdownFiles(root).flatMap((file) => extractSnippets(readFileSync(join(root, file), 'utf8'), file));
  const modules = snippetModules(snippets);
  const sources = packageSources(root);
  // Inside the docs tool, so the snippets resolve pg, postgres, kysely and PGlite from its node_modules.
  const diagnostics = checkSnippets(modules, join(root, 'tools/docs/.snippets'), sources);
  return { modules, diagnostics };
}

/**
 * Each `@pgqueue/*` entry point (every key of each package's `exports`) mapped to the source file
 * its build comes from (`./dist/x.js` from `./src/x.ts`), so a new subpath needs no change here.
 */
export function packageSources(root: string): Record<string, string> {
  const sources: Record<string, string> = {};
  for (const entry of readdirSync(join(root, 'packages'), { withFileTypes: true })) {
    const manifestPath = join(root, 'packages', entry.name, 'package.json');
    if (!entry.isDirectory() || !existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name: string; exports?: Record<string, unknown> };
    for (const [key, target] of Object.entries(manifest.exports ?? {})) {
      const built = builtFile(target);
      if (built === undefined || !built.startsWith('./dist/')) continue;
      const source = join(root, 'packages', entry.name, built.replace(/^\.\/dist\//, 'src/').replace(/\.(m|c)?js$/, '.ts'));
      if (existsSync(source)) sources[key === '.' ? manifest.name : `${manifest.name}/${key.replace(/^\.\//, '')}`] = source;
    }
  }
  return sources;
}

/** The JavaScript file an `exports` target names: a string, or the import/default of a conditions object. */
function builtFile(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (typeof target !== 'object' || target === null) return undefined;
  const conditions = target as Record<string, unknown>;
  for (const key of ['import', 'default', 'node', 'require']) {
    const found = builtFile(conditions[key]);
    if (found !== undefined && /\.(m|c)?js$/.test(found)) return found;
  }
  return undefined;
}
