// The CLI surface that needs no container: spec, features, version, help,
// state/list, and bad input that must fail clearly and write nothing.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type Bundle } from '../helpers/bundle.js';
import { guardHost, stateDirs } from '../helpers/leftovers.js';
import { makeRoot, tsrunSync } from '../helpers/tsrun.js';

let root: string;
guardHost((r) => (root = r), { deleteLeftovers: false });

describe('tsrun --version / help', () => {
  it('prints tsrun, commit, spec and libseccomp versions like runc', () => {
    for (const flag of ['--version', '-v']) {
      const r = tsrunSync([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^tsrun version \d+\.\d+\.\d+\ncommit: \S+\nspec: 1\.\d+\.\d+\n/);
      expect(r.stdout).toMatch(/libseccomp: 2\.\d+\.\d+/);
    }
  });
  it('lists every verb in help, and refuses an unknown verb', () => {
    const r = tsrunSync(['help']);
    expect(r.code).toBe(0);
    for (const verb of ['create', 'start', 'run', 'state', 'list', 'kill', 'delete', 'spec', 'features', 'exec', 'pause', 'resume', 'ps', 'update'])
      expect(r.stdout).toContain(`  ${verb} `);
    const bad = tsrunSync(['frobnicate']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown command "frobnicate"/);
  });
  it('says "not implemented yet" for verbs of later issues instead of crashing', () => {
    const r = tsrunSync(['--root', root, 'checkpoint', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tsrun: checkpoint: not implemented yet/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});

describe('tsrun spec', () => {
  it('writes runc\'s default config, which validates, and refuses to overwrite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spec-'));
    expect(tsrunSync(['spec', '--bundle', dir]).code).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config.ociVersion).toMatch(/^1\.2\./);
    expect(config.process.args).toEqual(['sh']);
    expect(config.root).toEqual({ path: 'rootfs', readonly: true });
    expect(config.linux.namespaces.map((n: { type: string }) => n.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
    const again = tsrunSync(['spec', '--bundle', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/config.json.*EEXIST/);
  });
  it('writes a rootless config with a user namespace mapping the caller', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spec-'));
    expect(tsrunSync(['spec', '--rootless', '-b', dir]).code).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config.linux.namespaces.some((n: { type: string }) => n.type === 'user')).toBe(true);
    expect(config.linux.uidMappings).toEqual([{ containerID: 0, hostID: 0, size: 1 }]);
  });
});

describe('tsrun features', () => {
  it('prints the features document with what tsrun supports', () => {
    const r = tsrunSync(['features']);
    expect(r.code).toBe(0);
    const f = JSON.parse(r.stdout);
    expect(f.ociVersionMin).toBe('1.0.0');
    expect(f.linux.namespaces).toEqual(expect.arrayContaining(['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time']));
    expect(f.linux.capabilities).toContain('CAP_SYS_ADMIN');
    expect(f.mountOptions).toEqual(expect.arrayContaining(['rbind', 'ro', 'nosuid', 'rslave']));
  });
});

describe('state and list', () => {
  it('lists nothing in an empty root, as a table, JSON and ids', () => {
    const empty = makeRoot();
    expect(tsrunSync(['--root', empty, 'list']).stdout).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\n$/);
    expect(JSON.parse(tsrunSync(['--root', empty, 'list', '--format', 'json']).stdout)).toEqual([]);
    expect(tsrunSync(['--root', empty, 'list', '-q']).stdout).toBe('');
    expect(tsrunSync(['--root', join(empty, 'missing'), 'list', '--format=json']).stdout).toBe('[]\n');
  });
  it('fails clearly for an unknown or invalid id', () => {
    const r = tsrunSync(['--root', root, 'state', 'nothere']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/container "nothere" does not exist/);
    const bad = tsrunSync(['--root', root, 'state', '../etc']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid container id "..\/etc"/);
  });
});

describe('bad input leaves nothing behind', () => {
  let bundle: Bundle;
  beforeAll(() => {
    bundle = makeBundle();
  });
  afterAll(() => bundle.cleanup());

  const createWith = (configText: string, id = 'bad1') => {
    writeFileSync(join(bundle.dir, 'config.json'), configText);
    return tsrunSync(['--root', root, 'create', '--bundle', bundle.dir, id]);
  };

  it('broken JSON', () => {
    const r = createWith('{"ociVersion": "1.0.0",');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/config\.json: \.: invalid JSON/);
    expect(stateDirs(root)).toEqual([]);
  });
  it('wrong types, each with its field', () => {
    const c = structuredClone(bundle.config) as any;
    c.process.args = 'sh';
    c.process.user.uid = 'root';
    const r = createWith(JSON.stringify(c));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('.process.args: must be of type array');
    expect(r.stderr).toContain('.process.user.uid: must be of type integer');
    expect(stateDirs(root)).toEqual([]);
  });
  it('a missing rootfs, named with its path and field', () => {
    const c = structuredClone(bundle.config) as any;
    c.root.path = 'no-such-rootfs';
    const r = createWith(JSON.stringify(c));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/find the rootfs ".*no-such-rootfs" \(config \.root\.path\): stat: ENOENT/);
    expect(stateDirs(root)).toEqual([]);
  });
  it('a missing bundle', () => {
    const r = tsrunSync(['--root', root, 'create', '--bundle', '/nonexistent/bundle', 'bad2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/read the bundle config "\/nonexistent\/bundle\/config.json": open: ENOENT/);
    expect(stateDirs(root)).toEqual([]);
  });
  it('bad ids and bad flags', () => {
    writeFileSync(join(bundle.dir, 'config.json'), JSON.stringify(bundle.config));
    for (const id of ['../x', 'a/b', '..']) {
      const r = tsrunSync(['--root', root, 'create', '--bundle', bundle.dir, id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/invalid container id/);
    }
    const r = tsrunSync(['--root', root, 'create', '--nope', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/flag provided but not defined: -nope/);
    expect(stateDirs(root)).toEqual([]);
    expect(existsSync(join(root, '..', 'x'))).toBe(false);
  });
});

describe('--log', () => {
  it('writes JSON lines with level as a word, msg and an RFC 3339 time (what containerd reads)', () => {
    const log = join(mkdtempSync(join(tmpdir(), 'log-')), 'tsrun.log');
    const r = tsrunSync(['--root', root, '--log', log, '--log-format', 'json', 'state', 'nothere']);
    expect(r.code).toBe(1);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const last = lines[lines.length - 1];
    expect(last.level).toBe('error');
    expect(last.msg).toMatch(/container "nothere" does not exist/);
    expect(new Date(last.time).toISOString()).toBe(last.time);
    expect(last.errno).toBe('ENOENT');
  });
  it('--debug adds debug lines (the verb, its args, where an error was raised); the error stays the last line', () => {
    const log = join(mkdtempSync(join(tmpdir(), 'log-')), 'tsrun.log');
    tsrunSync(['--root', root, '--debug', '--log', log, '--log-format', 'json', 'state', 'nothere']);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ level: 'debug', msg: 'state started', args: ['nothere'] });
    expect(lines.some((l) => l.level === 'debug' && /at /.test(l.stack ?? ''))).toBe(true);
    expect(lines[lines.length - 1]).toMatchObject({ level: 'error', kind: 'not-found' });
    const quiet = join(mkdtempSync(join(tmpdir(), 'log-')), 'tsrun.log');
    tsrunSync(['--root', root, '--log', quiet, '--log-format', 'json', 'state', 'nothere']);
    expect(readFileSync(quiet, 'utf8')).not.toMatch(/"level":"debug"/);
  });
  it('writes logfmt-style text lines by default', () => {
    const log = join(mkdtempSync(join(tmpdir(), 'log-')), 'tsrun.log');
    tsrunSync(['--root', root, '--log', log, 'state', 'nothere']);
    expect(readFileSync(log, 'utf8')).toMatch(/^time="[^"]+" level=error msg=".*does not exist.*"/);
  });
});
