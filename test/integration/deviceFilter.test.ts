// The cgroup v2 device filter (an eBPF program built in TypeScript, loaded by the addon). It runs on
// any host with a v2 hierarchy: the pure one, or /sys/fs/cgroup/unified of a
// hybrid host, where the kernel checks the program as well as v1's lists.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addon } from '../../src/native/addon.js';
import { bpfDeviceRules } from '../../src/linux/cgroups/resourceFiles.js';
import { deviceProgram, encodeBpfProgram } from '../../src/linux/cgroups/deviceProgram.js';

const base = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified';
const haveV2 = existsSync(join(base, 'cgroup.procs'));

function inFilteredCgroup(rules: Parameters<typeof bpfDeviceRules>[0], script: string): string {
  const dir = join(base, `tsrun-devtest-${process.pid}`);
  mkdirSync(dir);
  try {
    addon().attachDeviceFilter(dir, encodeBpfProgram(deviceProgram(bpfDeviceRules(rules, []))));
    const r = spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs; ${script}`], { encoding: 'utf8' });
    return r.stdout + r.stderr.replace(/^sh: \d+: /gm, '');
  } finally {
    rmdirSync(dir);
  }
}

// A kmsg node (c 1:11) made for the test: not among the runtime's default devices.
const KMSG = `mk=$(mktemp -d); mknod $mk/kmsg c 1 11;`;

describe.skipIf(!haveV2)('cgroup v2 device filter (eBPF)', () => {
  it('denies all but the default devices after a deny-all rule', () => {
    const out = inFilteredCgroup({ devices: [{ allow: false, access: 'rwm' }] },
      `${KMSG} echo x > /dev/null && echo null-ok; head -c 3 /dev/zero | wc -c; (head -c 1 $mk/kmsg) 2>&1 | grep -c "not permitted"; rm -r $mk`);
    expect(out).toBe('null-ok\n3\n1\n');
  });
  it('honours access bits, and the last matching rule wins', () => {
    const out = inFilteredCgroup({ devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 11, access: 'rw' },
      { allow: false, type: 'c', major: 1, minor: 11, access: 'w' },
    ] }, `${KMSG} (timeout 1 head -c 1 $mk/kmsg > /dev/null) 2>&1 | grep -c "not permitted"; (echo x > $mk/kmsg) 2>&1 | grep -c "not permitted"; rm -r $mk`);
    expect(out).toBe('0\n1\n');
  });
  it('allows everything after an allow-all rule', () => {
    const out = inFilteredCgroup({ devices: [{ allow: true, access: 'rwm' }] }, `${KMSG} (timeout 1 head -c 1 $mk/kmsg > /dev/null) 2>&1 | grep -c "not permitted"; rm -r $mk`);
    expect(out).toBe('0\n');
  });
});
