// Running a CNI plugin (src/network/cni.ts) against small fake plugins: the
// environment and stdin the spec prescribes, chaining with prevResult and
// runtimeConfig, result validation, and error results mapped to kinds.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addNetworkList, delNetworkList, execPlugin, pluginInput } from '../../src/network/cni.js';
import type { RuntimeError } from '../../src/common/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-cni-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A plugin that records its environment and stdin, then prints `out` and exits `code`. */
function fakePlugin(name: string, out: string, code = 0): void {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\nenv | grep ^CNI_ | sort > ${dir}/${name}.env\ncat > ${dir}/${name}.stdin\nprintf '%s' '${out}'\nexit ${code}\n`);
  chmodSync(p, 0o755);
}

const rt = { containerId: 'c'.repeat(64), netns: '/run/netns/x', ifname: 'eth0', cniPath: [dir] };
const RESULT = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/x' }], ips: [{ address: '10.1.0.2/16', gateway: '10.1.0.1', interface: 0 }] };

describe('CNI plugins', () => {
  it('ADD: the CNI_* environment, the config with name and cniVersion on stdin, the result parsed', async () => {
    fakePlugin('one', JSON.stringify(RESULT));
    const r = await execPlugin('ADD', { type: 'one', name: 'net', cniVersion: '1.0.0', x: 1 }, { ...rt, args: { IgnoreUnknown: '1' } });
    expect(r).toEqual(RESULT);
    expect(readFileSync(join(dir, 'one.env'), 'utf8').split('\n').filter(Boolean)).toEqual([
      'CNI_ARGS=IgnoreUnknown=1', `CNI_COMMAND=ADD`, `CNI_CONTAINERID=${'c'.repeat(64)}`, 'CNI_IFNAME=eth0', 'CNI_NETNS=/run/netns/x', `CNI_PATH=${dir}`,
    ]);
    expect(JSON.parse(readFileSync(join(dir, 'one.stdin'), 'utf8'))).toEqual({ type: 'one', name: 'net', cniVersion: '1.0.0', x: 1 });
  });

  it('a chain: each plugin gets the previous result as prevResult, runtimeConfig only for its capabilities; DEL in reverse with the cached result', async () => {
    fakePlugin('first', JSON.stringify(RESULT));
    fakePlugin('second', JSON.stringify({ ...RESULT, routes: [{ dst: '0.0.0.0/0' }] }));
    const list = { cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'first' }, { type: 'second', capabilities: { portMappings: true } }] };
    const ports = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }];
    const r = await addNetworkList(list, { ...rt, capabilityArgs: { portMappings: ports, bandwidth: {} } });
    expect(r.routes).toEqual([{ dst: '0.0.0.0/0' }]);
    expect(JSON.parse(readFileSync(join(dir, 'first.stdin'), 'utf8'))).toEqual({ type: 'first', name: 'net', cniVersion: '1.0.0' });
    expect(JSON.parse(readFileSync(join(dir, 'second.stdin'), 'utf8'))).toEqual({ type: 'second', capabilities: { portMappings: true }, name: 'net', cniVersion: '1.0.0', prevResult: RESULT, runtimeConfig: { portMappings: ports } });
    fakePlugin('first', '');
    fakePlugin('second', '');
    await delNetworkList(list, rt, r);
    expect(readFileSync(join(dir, 'first.env'), 'utf8')).toContain('CNI_COMMAND=DEL');
    expect(JSON.parse(readFileSync(join(dir, 'first.stdin'), 'utf8')).prevResult).toEqual(r);
  });

  it('DEL calls every plugin even when one fails, then reports the first failure', async () => {
    fakePlugin('bad', JSON.stringify({ cniVersion: '1.0.0', code: 11, msg: 'busy' }), 1);
    fakePlugin('good', '');
    rmSync(join(dir, 'good.env'), { force: true });
    const list = { cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'good' }, { type: 'bad' }] };
    await expect(delNetworkList(list, rt, undefined)).rejects.toMatchObject({ kind: 'unavailable' });
    expect(readFileSync(join(dir, 'good.env'), 'utf8')).toContain('CNI_COMMAND=DEL');
  });

  it('an error result {code, msg, details} becomes an error with a kind, naming the plugin', async () => {
    fakePlugin('err', JSON.stringify({ cniVersion: '1.0.0', code: 7, msg: 'invalid config', details: 'no bridge name' }), 1);
    const e = await execPlugin('ADD', { type: 'err', name: 'net', cniVersion: '1.0.0' }, rt).catch((x: RuntimeError) => x);
    expect(e).toMatchObject({ kind: 'invalid-argument' });
    expect((e as Error).message).toContain('plugin err: invalid config: no bridge name (CNI error code 7)');
    fakePlugin('crash', 'panic: oops', 2);
    await expect(execPlugin('ADD', { type: 'crash', name: 'net', cniVersion: '1.0.0' }, rt)).rejects.toMatchObject({ kind: 'system', message: expect.stringContaining('exited with status 2: panic: oops') });
  });

  it('a result that is not the spec\'s shape is refused; a missing plugin is unavailable', async () => {
    fakePlugin('odd', JSON.stringify({ cniVersion: '1.0.0', ips: [{ gateway: '10.0.0.1' }] }));
    await expect(execPlugin('ADD', { type: 'odd', name: 'net', cniVersion: '1.0.0' }, rt)).rejects.toThrow(/invalid result: \/ips\/0 must have required property 'address'/);
    await expect(execPlugin('ADD', { type: 'nope', name: 'net', cniVersion: '1.0.0' }, rt)).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(execPlugin('ADD', { type: '../x', name: 'net', cniVersion: '1.0.0' }, rt)).rejects.toMatchObject({ kind: 'invalid-argument' });
  });

  it('pluginInput leaves runtimeConfig out when no capability has a value', () => {
    expect(pluginInput({ cniVersion: '1.0.0', name: 'n', plugins: [] }, { type: 'portmap', capabilities: { portMappings: true } }, undefined)).toEqual({ type: 'portmap', capabilities: { portMappings: true }, name: 'n', cniVersion: '1.0.0' });
  });
});
