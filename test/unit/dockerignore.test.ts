import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanPath, goMatch, isExcluded, parseDockerignore, walkContext } from '../../src/image/build/dockerignore.js';

describe('parseDockerignore', () => {
  it('drops comments and blanks, cleans, strips a leading slash, keeps ! exceptions in order', () => {
    const ps = parseDockerignore('\uFEFF# comment\n\n  /a/./b/  \n!  /keep//me\r\n  # not a comment (leading space)\n../up\n/\n**/*.o\n');
    expect(ps.map((p) => [p.exclusion, p.pattern])).toEqual([
      [false, 'a/b'], [true, 'keep/me'], [false, '# not a comment (leading space)'], [false, '../up'], [false, '/'], [false, '**/*.o'],
    ]);
  });

  it.each(['!', '[', 'a[', 'x\\'])('refuses the malformed pattern %j', (text) => {
    expect(() => parseDockerignore(text)).toThrow(/illegal exclusion pattern|syntax error in pattern/);
  });
});

describe('isExcluded (PatternMatcher.Matches)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*.md', 'README.md', true],
    ['*.md', 'docs/README.md', false],
    ['**/*.md', 'docs/a/README.md', true],
    ['**/*.md', 'README.md', true],
    ['docs', 'docs/a/b.txt', true],
    ['docs/*', 'docs/a/b.txt', true],
    ['docs/*/b.txt', 'docs/a/b.txt', true],
    ['doc?', 'docs', true],
    ['doc?', 'doc/s', false],
    ['[a-c]x', 'bx', true],
    ['[^a-c]x', 'bx', false],
    ['a.b', 'aXb', false],
    ['**', 'anything/at/all', true],
    ['a/**', 'a/b/c', true],
    ['a/**/z', 'a/z', true],
    ['a/**/z', 'a/b/c/z', true],
    ['node_modules', 'src/node_modules', false],
    ['*\n!keep.md', 'keep.md', false],
    ['*\n!keep.md', 'other.md', true],
    ['!keep.md\n*', 'keep.md', true],
    ['docs\n!docs/keep', 'docs/keep', false],
    ['docs\n!docs/keep', 'docs/other', true],
    ['docs\n!docs/keep', 'docs/keep/deeper', false],
    ['/abs', 'abs', true],
    ['./x/../y', 'y', true],
    ['\\*', '*', true],
    ['\\*', 'a', false],
  ];
  it.each(cases)('%j on %j → %s', (text, path, excluded) => {
    expect(isExcluded(path, parseDockerignore(text))).toBe(excluded);
  });
});

describe('goMatch (filepath.Match)', () => {
  it.each([
    ['*', 'abc', true], ['*', 'a/b', false], ['a*c', 'abbbc', true], ['a*/b', 'abc/b', true], ['a*b*c*d', 'axbxcxd', true],
    ['?', 'é', true], ['?', '/', false], ['[a-z]', 'q', true], ['[^a-z]', 'q', false], ['[\\]]', ']', true],
    ['a\\*b', 'a*b', true], ['a\\*b', 'axb', false], ['*.txt', '.txt', true], ['abc', 'abcd', false],
  ])('%j %j → %s', (pattern, name, expected) => {
    expect(goMatch(pattern, name)).toBe(expected);
  });
  it.each(['[', '[a-', 'a\\', '[]', '[-]', 'x[a'])('refuses %j', (pattern) => {
    expect(() => goMatch(pattern, 'xyz')).toThrow(/syntax error in pattern/);
  });
});

describe('cleanPath (Go path.Clean)', () => {
  it.each([['', '.'], ['a//b/./c/', 'a/b/c'], ['/../a', '/a'], ['../../a', '../../a'], ['a/../..', '..'], ['/', '/']])('%j → %j', (p, c) => {
    expect(cleanPath(p)).toBe(c);
  });
});

describe('walkContext', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsrun-dockerignore-'));
    for (const d of ['src/lib', 'docs/keep', 'node_modules/x', 'empty']) await mkdir(join(dir, d), { recursive: true });
    for (const f of ['Dockerfile', '.dockerignore', 'src/a.ts', 'src/lib/b.ts', 'src/lib/b.o', 'docs/x.md', 'docs/keep/y.md', 'node_modules/x/i.js', 'B']) {
      await writeFile(join(dir, f), f);
    }
    await symlink('/etc', join(dir, 'src/etc-link'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function list(ignore: string, dockerfile = 'Dockerfile'): Promise<string[]> {
    const out: string[] = [];
    for await (const e of walkContext(dir, parseDockerignore(ignore), { dockerfile })) out.push(`${e.type[0]} ${e.path}`);
    return out;
  }

  it('sends everything in Go walk order without following symlinks when nothing is ignored', async () => {
    expect(await list('')).toEqual([
      'f .dockerignore', 'f B', 'f Dockerfile', 'd docs', 'd docs/keep', 'f docs/keep/y.md', 'f docs/x.md', 'd empty',
      'd node_modules', 'd node_modules/x', 'f node_modules/x/i.js', 'd src', 'f src/a.ts', 's src/etc-link', 'd src/lib', 'f src/lib/b.o', 'f src/lib/b.ts',
    ]);
  });

  it('skips excluded directories whole, walks into one an exception names, always sends .dockerignore and the Dockerfile', async () => {
    expect(await list('*\n!src\n**/*.o\ndocs\n!docs/keep\n')).toEqual([
      'f .dockerignore', 'f Dockerfile', 'd docs/keep', 'f docs/keep/y.md', 'd src', 'f src/a.ts', 's src/etc-link', 'd src/lib', 'f src/lib/b.ts',
    ]);
  });

  it('a Dockerfile elsewhere is kept by its own name', async () => {
    expect(await list('src\n', 'src/a.ts')).toContain('f src/a.ts');
    expect(await list('src\n', 'src/a.ts')).not.toContain('f src/lib/b.ts');
  });

  it('names the directory when the context cannot be read', async () => {
    const gen = walkContext(join(dir, 'missing'), []);
    await expect(gen.next()).rejects.toThrow(/read build context ".*missing": opendir: ENOENT/);
  });
});
