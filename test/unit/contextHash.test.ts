import { chmod, chown, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { containsWildcards, hashCopySources } from '../../src/image/build/contextHash.js';
import { RuntimeError } from '../../src/common/errors.js';

let ctx: string;
let outside: string;

beforeEach(async () => {
  ctx = await mkdtemp(join(tmpdir(), 'tsrun-ctxhash-'));
  outside = await mkdtemp(join(tmpdir(), 'tsrun-ctxhash-out-'));
  await mkdir(join(ctx, 'dir/sub'), { recursive: true });
  await writeFile(join(ctx, 'a.txt'), 'alpha');
  await writeFile(join(ctx, 'b.txt'), 'beta');
  await writeFile(join(ctx, 'c.md'), 'gamma');
  await writeFile(join(ctx, 'dir/x'), 'x');
  await writeFile(join(ctx, 'dir/sub/y'), 'y');
  await writeFile(join(outside, 'secret'), 'secret');
});

afterEach(async () => {
  await rm(ctx, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

const hash = async (sources: string[], flags: { chown?: string; chmod?: string } = {}) =>
  (await hashCopySources({ contextDir: ctx, sources, ...flags })).digest;

describe('hashCopySources: what changes the key', () => {
  const changes: Array<[string, string[], () => Promise<unknown>, boolean]> = [
    ['touching a file keeps it', ['a.txt'], () => utimes(join(ctx, 'a.txt'), new Date(1e12), new Date(1e12)), false],
    ['touching a directory keeps it', ['dir'], () => utimes(join(ctx, 'dir/sub'), new Date(1e12), new Date(1e12)), false],
    ['rewriting the same bytes keeps it', ['a.txt'], () => writeFile(join(ctx, 'a.txt'), 'alpha'), false],
    ['a file outside the sources keeps it', ['a.txt'], () => writeFile(join(ctx, 'b.txt'), 'other'), false],
    ['one changed byte changes it', ['a.txt'], () => writeFile(join(ctx, 'a.txt'), 'alphA'), true],
    ['a changed byte deep in a directory', ['dir'], () => writeFile(join(ctx, 'dir/sub/y'), 'Y'), true],
    ['a mode change', ['a.txt'], () => chmod(join(ctx, 'a.txt'), 0o600), true],
    ['a directory mode change', ['dir'], () => chmod(join(ctx, 'dir/sub'), 0o700), true],
    ['an owner change', ['dir'], () => chown(join(ctx, 'dir/x'), 1234, 1234), true],
    ['a new file in a directory', ['dir'], () => writeFile(join(ctx, 'dir/new'), ''), true],
    ['a renamed file in a directory', ['dir'], async () => {
      await rm(join(ctx, 'dir/x'));
      await writeFile(join(ctx, 'dir/z'), 'x');
    }, true],
    ['a new file a glob matches', ['*.txt'], () => writeFile(join(ctx, 'd.txt'), ''), true],
    ['a new file a glob does not match', ['*.txt'], () => writeFile(join(ctx, 'd.md'), ''), false],
  ];
  it.each(changes)('%s', async (_name, sources, change, differs) => {
    const before = await hash(sources);
    await change();
    const after = await hash(sources);
    expect(after !== before).toBe(differs);
    expect(after).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('--chown and --chmod are part of the key, and so is the source order', async () => {
    const base = await hash(['a.txt']);
    expect(await hash(['a.txt'], { chown: '1:1' })).not.toBe(base);
    expect(await hash(['a.txt'], { chmod: '755' })).not.toBe(base);
    expect(await hash(['a.txt', 'b.txt'])).not.toBe(await hash(['b.txt', 'a.txt']));
  });

  it('a symlink is hashed by its target and never followed out of the context', async () => {
    await symlink(join(outside, 'secret'), join(ctx, 'dir/link'));
    const before = await hash(['dir']);
    await writeFile(join(outside, 'secret'), 'changed');
    expect(await hash(['dir'])).toBe(before);
  });
});

describe('hashCopySources: resolving sources', () => {
  it.each([
    [['a.txt'], [['a.txt', 'a.txt', 'file']]],
    [['/a.txt'], [['/a.txt', 'a.txt', 'file']]],
    [['./dir/'], [['./dir/', 'dir', 'directory']]],
    [['.'], [['.', '.', 'directory']]],
    [['/'], [['/', '.', 'directory']]],
    [['*.txt'], [['a.txt', 'a.txt', 'file'], ['b.txt', 'b.txt', 'file']]],
    [['dir/*'], [['dir/sub', 'dir/sub', 'directory'], ['dir/x', 'dir/x', 'file']]],
    [['[ab].txt', 'c.md'], [['a.txt', 'a.txt', 'file'], ['b.txt', 'b.txt', 'file'], ['c.md', 'c.md', 'file']]],
    [['dir/../a.txt'], [['dir/../a.txt', 'a.txt', 'file']]],
  ])('%j', async (sources, expected) => {
    const { resolved } = await hashCopySources({ contextDir: ctx, sources });
    expect(resolved.map((r) => [r.source, r.path, r.type])).toEqual(expected);
  });

  it('a symlink source is followed inside the context only: an absolute target starts again at its root', async () => {
    await symlink('/a.txt', join(ctx, 'abs-link'));
    await symlink(join(outside, 'secret'), join(ctx, 'out-link'));
    expect((await hashCopySources({ contextDir: ctx, sources: ['abs-link'] })).resolved[0]).toMatchObject({ path: 'a.txt', type: 'file' });
    await expect(hashCopySources({ contextDir: ctx, sources: ['out-link'] })).rejects.toThrow(/file not found in build context/);
  });

  it.each([
    [['../x'], 'COPY failed: forbidden path outside the build context: ../x ()'],
    [['dir/../../x'], 'COPY failed: forbidden path outside the build context: dir/../../x ()'],
    [['/../etc/passwd'], 'forbidden path outside the build context: /../etc/passwd ()'],
    [['missing'], 'COPY failed: file not found in build context or excluded by .dockerignore: stat missing: file does not exist'],
    [['a.txt/x'], 'stat a.txt/x: file does not exist'],
    [['*.none'], 'COPY failed: no source files were specified'],
    [['[a'], 'syntax error in pattern'],
  ])('refuses %j', async (sources, message) => {
    const err = await hashCopySources({ contextDir: ctx, sources }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).message).toContain(message);
  });

  it('names ADD in its messages', async () => {
    await expect(hashCopySources({ contextDir: ctx, sources: ['nope'], instruction: 'ADD' })).rejects.toThrow(/^ADD failed: file not found/);
  });

  it.each([['a*', true], ['a?', true], ['[x]', true], ['a\\*', false], ['plain', false]])('containsWildcards(%j) = %s', (s, w) => {
    expect(containsWildcards(s)).toBe(w);
  });
});
