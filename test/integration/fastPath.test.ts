// The native front binary (addon/fast) answers state, start and kill
// from fast.state without a JS engine. Its answers must be exactly the
// TypeScript CLI's: each is compared with TSRUN_NO_FAST=1 in every status, and
// proven to run without an engine (Node forced, with NODE_OPTIONS that break
// any Node start). The tests also check which engine the CLI runs on.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { makeBundle, type Bundle } from '../helpers/bundle.js';
import { tsrunSync } from '../helpers/tsrun.js';
import { tmpdir } from 'node:os';

let root: string;
let bundle: Bundle;

// Any hand-over to the TypeScript CLI fails: the engine is forced to Node, and Node cannot start.
const NO_NODE = { TSRUN_ENGINE: 'node', NODE_OPTIONS: '--require /nonexistent/break-node.js' };

/** This environment with the default engine (the suite also runs with TSRUN_ENGINE=node). */
const defaultEngineEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'TSRUN_ENGINE'));

function run(args: string[], env: Record<string, string> = {}) {
  return tsrunSync(['--root', root, ...args], { env: { ...process.env, ...env } });
}

function sameAsNode(id: string): string {
  const fast = run(['state', id], NO_NODE);
  const node = run(['state', id], { TSRUN_NO_FAST: '1' });
  expect(fast.code, fast.stderr).toBe(0);
  expect(fast.stdout).toBe(node.stdout);
  return JSON.parse(fast.stdout).status;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tsrun-fast-'));
  bundle = makeBundle((c) => { c.process!.args = ['sleep', '100']; });
});

afterEach(() => {
  for (const id of ['f1', 'f2']) run(['delete', '--force', id], { TSRUN_NO_FAST: '1' });
  bundle.cleanup();
  rmSync(root, { recursive: true, force: true });
});

describe('native state/start/kill/delete', () => {
  it('gives Node\'s exact state document in every status, without starting Node', () => {
    expect(run(['create', '--bundle', bundle.dir, 'f1']).code).toBe(0);
    expect(existsSync(join(root, 'f1', 'fast.state'))).toBe(true);
    expect(sameAsNode('f1')).toBe('created');
    const start = run(['start', 'f1'], NO_NODE);
    expect(start.code, start.stderr).toBe(0);
    expect(sameAsNode('f1')).toBe('running');
    expect(run(['pause', 'f1']).code).toBe(0);
    expect(sameAsNode('f1')).toBe('paused');
    expect(run(['resume', 'f1']).code).toBe(0);
    expect(sameAsNode('f1')).toBe('running');
    const kill = run(['kill', 'f1', 'sigkill'], NO_NODE);
    expect(kill.code, kill.stderr).toBe(0);
    for (let i = 0; i < 100 && JSON.parse(run(['state', 'f1']).stdout).status !== 'stopped'; i++) spawnSync('sleep', ['0.02']);
    expect(sameAsNode('f1')).toBe('stopped');
    expect(JSON.parse(run(['state', 'f1']).stdout).pid).toBe(0);
  });

  it('prints Node\'s --version text', () => {
    const fast = tsrunSync(['--version'], { env: { ...process.env, ...NO_NODE } });
    expect(fast.code).toBe(0);
    // The native text is the default engine's: the build wrote it.
    expect(fast.stdout).toBe(tsrunSync(['--version'], { env: { ...defaultEngineEnv(), TSRUN_NO_FAST: '1' } }).stdout);
    expect(fast.stdout).toMatch(/^tsrun version .*\nlibseccomp: \d/s);
  });

  it('runs the TypeScript CLI on bun where npm installed it, on Node with TSRUN_ENGINE=node', async () => {
    // @ts-expect-error: a plain .mjs build script, no types
    const { bunBinary } = await import('../../scripts/bunBinary.mjs');
    const haveBun = !!bunBinary(join(import.meta.dirname, '../..'));
    const engine = (env: Record<string, string>) => /^(bun|node): /m.exec(tsrunSync(['--version'], { env: { ...defaultEngineEnv(), TSRUN_NO_FAST: '1', ...env } }).stdout)?.[1];
    expect(engine({})).toBe(haveBun ? 'bun' : 'node');
    // Where bun runs it, the build compiled the CLI into one executable, which the front binary runs.
    expect(existsSync(join(import.meta.dirname, '../../dist/bun/tsrun'))).toBe(haveBun);
    // A copy of the checkout loads its own addon, not the one at the path it was built at
    // (bun freezes import.meta.url into what it compiles: src/native/selfPath.ts).
    const copy = mkdtempSync(join(tmpdir(), 'tsrun-copy-'));
    try {
      const repo = join(import.meta.dirname, '../..');
      execFileSync('cp', ['-al', ...['bin', 'dist', 'build', 'node_modules', 'package.json'].map((f) => join(repo, f)), copy]);
      const r = spawnSync(join(copy, 'bin/tsrun'), ['--version'], { encoding: 'utf8', env: { ...defaultEngineEnv(), TSRUN_NO_FAST: '1', LD_DEBUG: 'files' } });
      expect(r.status).toBe(0);
      const loaded = /file=(\S*tsrun\.node) \[0\];  dynamically loaded by (\S+)/.exec(r.stderr);
      expect(loaded?.[1]).toBe(join(copy, 'build/Release/tsrun.node'));
      if (haveBun) {
        expect(loaded?.[2]).toBe(join(copy, 'dist/bun/tsrun'));
        // dist/ newer than the compiled CLI (tsc run alone after an edit): bun runs the script instead of stale code.
        const mainJs = join(copy, 'dist/cli/main.js');
        execFileSync('cp', ['--remove-destination', join(repo, 'dist/cli/main.js'), mainJs]); // its own inode: the checkout's stays untouched
        const later = new Date(Date.now() + 60_000);
        utimesSync(mainJs, later, later);
        const r2 = spawnSync(join(copy, 'bin/tsrun'), ['--version'], { encoding: 'utf8', env: { ...defaultEngineEnv(), TSRUN_NO_FAST: '1', LD_DEBUG: 'files' } });
        expect(r2.status).toBe(0);
        expect(/dynamically loaded by (\S+)/.exec(r2.stderr.split('\n').find((l) => l.includes('tsrun.node')) ?? '')?.[1]).toBe(bunBinary(copy));
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
    expect(engine({ TSRUN_ENGINE: 'node' })).toBe('node');
    // Both engines share one state format: created on Node, started natively, deleted on bun.
    const b = bundle;
    expect(run(['create', '--bundle', b.dir, 'e1'], { TSRUN_ENGINE: 'node' }).code).toBe(0);
    expect(run(['start', 'e1']).code).toBe(0);
    expect(run(['delete', '--force', 'e1'], { TSRUN_NO_FAST: '1', TSRUN_ENGINE: '' }).code).toBe(0); // '': the default engine
    expect(existsSync(join(root, 'e1'))).toBe(false);
  });

  it('hands every error to Node, with Node\'s message', () => {
    // Unknown container, bad id, stopped container, unknown signal, kill --all: all Node's words.
    const unknown = run(['state', 'nope'], NO_NODE);
    expect(unknown.code).not.toBe(0); // Node was needed, and NODE_OPTIONS broke it: proves the hand-over
    expect(run(['state', 'nope']).stderr).toBe(run(['state', 'nope'], { TSRUN_NO_FAST: '1' }).stderr);
    expect(run(['create', '--bundle', bundle.dir, 'f2']).code).toBe(0);
    expect(run(['kill', 'f2', 'NOTASIGNAL']).stderr).toContain('unknown signal "NOTASIGNAL"');
    expect(run(['kill', '--all', 'f2', 'KILL']).code).toBe(0);
    for (let i = 0; i < 100 && JSON.parse(run(['state', 'f2']).stdout).status !== 'stopped'; i++) spawnSync('sleep', ['0.02']);
    expect(run(['kill', 'f2']).stderr).toBe('tsrun: kill f2: container not running\n');
    expect(run(['start', 'f2']).stderr).toMatch(/^tsrun: start f2: cannot start a container that is stopped/);
  });

  it('passes a failed start report to Node (a startContainer hook that fails)', () => {
    const b = makeBundle((c) => { c.process!.args = ['true']; c.hooks = { startContainer: [{ path: '/bin/false' }] }; });
    try {
      expect(run(['create', '--bundle', b.dir, 'f1']).code).toBe(0);
      const fast = run(['start', 'f1']);
      expect(fast.code).toBe(1);
      expect(fast.stderr).toMatch(/startContainer hook/);
      expect(existsSync(join(root, 'f1', 'start.report'))).toBe(false);
    } finally {
      run(['delete', '--force', 'f1']);
      b.cleanup();
    }
  });

  it('deletes a stopped container natively and leaves nothing behind', () => {
    expect(run(['run', '-d', '--bundle', bundle.dir, 'f1']).code).toBe(0);
    const cgroups = readFileSync(join(root, 'f1', 'fast.state'), 'utf8').split('\n').filter((l) => l.startsWith('rmdir ')).map((l) => l.slice(8));
    expect(cgroups.length).toBeGreaterThan(0);
    expect(cgroups.every((d) => existsSync(d))).toBe(true);
    const running = run(['delete', 'f1'], NO_NODE);
    expect(running.code).not.toBe(0); // a running container is Node's (its message needs Node)
    expect(run(['delete', 'f1']).stderr).toBe(run(['delete', 'f1'], { TSRUN_NO_FAST: '1' }).stderr);
    expect(run(['kill', 'f1', 'KILL']).code).toBe(0);
    for (let i = 0; i < 100 && JSON.parse(run(['state', 'f1']).stdout).status !== 'stopped'; i++) spawnSync('sleep', ['0.02']);
    const del = run(['delete', '--force', 'f1'], NO_NODE);
    expect(del.code, del.stderr).toBe(0);
    expect(existsSync(join(root, 'f1'))).toBe(false);
    expect(cgroups.filter((d) => existsSync(d))).toEqual([]);
    // An id that is gone: Node's answer (success with --force).
    expect(run(['delete', '--force', 'f1']).code).toBe(0);
  });

  it('leaves a delete to Node when a process outlived the init in the cgroup', () => {
    // No pid namespace: a background child survives its parent, in the container's cgroup.
    const b = makeBundle((c) => {
      c.process!.args = ['sh', '-c', 'sleep 100 & exit 0'];
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'pid');
    });
    try {
      expect(run(['run', '-d', '--bundle', b.dir, 'f1']).code).toBe(0);
      for (let i = 0; i < 100 && JSON.parse(run(['state', 'f1']).stdout).status !== 'stopped'; i++) spawnSync('sleep', ['0.02']);
      expect(run(['delete', 'f1'], NO_NODE).code).not.toBe(0); // not native: a process is left to kill
      expect(existsSync(join(root, 'f1'))).toBe(true);
      expect(run(['delete', 'f1']).code).toBe(0);
      expect(existsSync(join(root, 'f1'))).toBe(false);
    } finally {
      run(['delete', '--force', 'f1']);
      b.cleanup();
    }
  });

  it('leaves start with poststart hooks to Node', () => {
    const marker = join(root, 'poststart-ran');
    const b = makeBundle((c) => { c.process!.args = ['sleep', '100']; c.hooks = { poststart: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}`] }] }; });
    try {
      expect(run(['create', '--bundle', b.dir, 'f1']).code).toBe(0);
      expect(readFileSync(join(root, 'f1', 'fast.state'), 'utf8')).toContain('poststart 1');
      expect(run(['start', 'f1'], NO_NODE).code).not.toBe(0); // needs Node
      expect(run(['start', 'f1']).code).toBe(0);
      expect(existsSync(marker)).toBe(true);
    } finally {
      run(['delete', '--force', 'f1']);
      b.cleanup();
    }
  });
});
