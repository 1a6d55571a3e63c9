import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRepository, checkSnippets, extractSnippets, markdownFiles, packageSources, snippetModules } from '../src/snippets.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'pgq-docs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('every TypeScript snippet of the docs', () => {
  it('compiles against the sources', () => {
    const { modules, diagnostics } = checkRepository(root);
    expect(modules.length).toBeGreaterThan(10);
    expect(diagnostics.map(({ where, message }) => `${where}: ${message}`)).toEqual([]);
  }, 120_000);
});

describe('the snippet extractor', () => {
  const markdown = [
    '# Guide',
    '```ts',
    "const a: number = 1;",
    '```',
    'text',
    '```ts continue',
    'const b: number = a + 1;',
    '```',
    '```typescript skip',
    'not even TypeScript',
    '```',
    '- a list',
    '  ```ts',
    '  const c = 3;',
    '  ```',
    '```sh',
    'pnpm test',
    '```',
  ].join('\n');

  it('finds ts blocks (indented ones too) with their lines, and reads continue and skip', () => {
    expect(extractSnippets(markdown, 'guide.md')).toEqual([
      { file: 'guide.md', line: 3, code: 'const a: number = 1;', mode: 'module' },
      { file: 'guide.md', line: 7, code: 'const b: number = a + 1;', mode: 'continue' },
      { file: 'guide.md', line: 10, code: 'not even TypeScript', mode: 'skip' },
      { file: 'guide.md', line: 14, code: 'const c = 3;', mode: 'module' },
    ]);
    const modules = snippetModules(extractSnippets(markdown, 'guide.md'));
    expect(modules.map((module) => [module.name, module.parts.map((part) => part.line)])).toEqual([
      ['guide/line-3.ts', [3, 7]],
      ['guide/line-14.ts', [14]],
    ]);
  });

  it('writes a block that starts with a file name comment under that name, so another block can import it', () => {
    const markdown = ['```ts', '// telemetry.ts', 'export const ready = true;', '```', '```ts', "import { ready } from './telemetry.js';", 'const on: boolean = ready;', '```'].join('\n');
    const modules = snippetModules(extractSnippets(markdown, 'docs/otel.md'));
    expect(modules.map((module) => module.name)).toEqual(['docs-otel/telemetry.ts', 'docs-otel/line-6.ts']);
    const broken = snippetModules(extractSnippets(markdown.replace("'./telemetry.js'", "'./missing.js'"), 'docs/otel.md'));
    expect(checkSnippets(modules, join(scratch, 'named'), packageSources(root))).toEqual([]);
    expect(checkSnippets(broken, join(scratch, 'named-broken'), packageSources(root)).map(({ where }) => where)).toEqual(['docs/otel.md:6']);
  });

  it('refuses an unknown word, an unclosed block, and a continue with nothing before it', () => {
    expect(() => extractSnippets('```ts run\nx\n```', 'a.md')).toThrow('a.md:1: unknown word "run"');
    expect(() => extractSnippets('```ts\nx', 'a.md')).toThrow('a.md:1: this ts block is never closed.');
    expect(() => snippetModules(extractSnippets('```ts continue\nx\n```', 'a.md'))).toThrow('"ts continue" needs an earlier ts block');
  });

  it('picks up every Markdown file under docs/, and the READMEs', () => {
    const repo = join(scratch, 'repo');
    mkdirSync(join(repo, 'docs/nested'), { recursive: true });
    mkdirSync(join(repo, 'packages/core'), { recursive: true });
    for (const file of ['README.md', 'docs/new-guide.md', 'docs/nested/deep.md', 'packages/core/README.md']) {
      writeFileSync(join(repo, file), '# x\n');
    }
    writeFileSync(join(repo, 'docs/notes.txt'), 'not markdown');
    expect(markdownFiles(repo)).toEqual(['README.md', 'docs/nested/deep.md', 'docs/new-guide.md', 'packages/core/README.md']);
  });

  it('maps every package entry point to its source', () => {
    const sources = packageSources(root);
    expect(sources['@pgqueue/core']).toBe(join(root, 'packages/core/src/index.ts'));
    expect(sources['@pgqueue/core/testing']).toBe(join(root, 'packages/core/src/testing/index.ts'));
    expect(sources['@pgqueue/kysely']).toBe(join(root, 'packages/kysely/src/index.ts'));
  });

  it('reports a type error at the Markdown line it is on, through a continued block', () => {
    const guide = ['```ts', "import { Queries } from '@pgqueue/core';", '```', '```ts continue', "const n: string = Queries.name.length;", '```'];
    const modules = snippetModules(extractSnippets(guide.join('\n'), 'docs/guide.md'));
    const diagnostics = checkSnippets(modules, join(scratch, 'check'), packageSources(root));
    expect(diagnostics).toEqual([{ where: 'docs/guide.md:5', message: "Type 'number' is not assignable to type 'string'." }]);
  }, 60_000);
});
