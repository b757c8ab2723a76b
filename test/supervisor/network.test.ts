// The default bridge network with the real docker CLI. tsd runs inside a
// network namespace this file creates (`ip netns add`, tsd started through
// `nsenter --net=`, not `ip netns exec`, which remounts /sys), so its bridge,
// veths and iptables rules stay there and no traffic leaves this machine:
// only between the test's containers (and 127.0.0.1 of the namespace). The
// image is pulled before tsd moves into the namespace (the registry listens
// on the host's 127.0.0.1). After each test nothing of a container is left:
// no veth, pinned namespace, endpoint record, address allocation or iptables
// rule naming it.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestNetns } from './netns.js';
import { closeAndCheck, startTsd, type Tsd } from './tsd.js';

const ns = new TestNetns();
const NS = ns.name;
const NS_PATH = ns.path;
const IMAGE = 'busybox';
let t: Tsd;
/** Every container this file ran (their IDs and addresses must not stay in iptables). */
const seen = ns.seen;

const inNs = (cmd: string, args: string[]) => ns.run(cmd, args);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  // TSD_TEST_RUNTIME=runc: the same over another runc-compatible runtime (the namespace is the bundle's).
  t = await ns.startTsd(process.env.TSD_TEST_RUNTIME ? ['--runtime', process.env.TSD_TEST_RUNTIME] : [], IMAGE);
}, 60_000);

afterAll(async () => {
  try {
    if (t) expect(await closeAndCheck(t)).toEqual([]);
  } finally {
    ns.destroy(t);
  }
});

/** What the network part of tsd left in the namespace and the roots. */
const networkLeftovers = (tsd: Tsd = t) => ns.leftovers(tsd);

afterEach(async () => {
  const ids = (await t.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await t.docker(['rm', '-f', ...ids]);
  expect(networkLeftovers()).toEqual([]);
});

async function inspect(id: string, format: string): Promise<string> {
  return (await t.docker(['inspect', id, '--format', format])).stdout.trim();
}

describe('the default bridge network', () => {
  it('docker run --rm busybox ip -4 addr show eth0: an address in the default subnet (172.17.0.0/16: the namespace has no routes)', async () => {
    const r = await t.docker(['run', '--rm', IMAGE, 'ip', '-4', 'addr', 'show', 'eth0']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/inet 172\.17\.\d+\.\d+\/16/);
    expect(r.stdout).not.toMatch(/inet 172\.17\.0\.1\//);
  });

  it('container A (httpd) is reached from container B by the IP inspect shows; inspect, /etc/hosts and resolv.conf as Docker', async () => {
    const a = await t.docker(['run', '-d', '--name', 'web', IMAGE, 'sh', '-c', 'echo hello from A > /tmp/index.html && exec httpd -f -p 80 -h /tmp']);
    expect(a.stderr).toBe('');
    const id = a.stdout.trim();
    seen.push(id);
    const ip = await inspect(id, '{{.NetworkSettings.IPAddress}}');
    seen.push(ip);
    expect(ip).toMatch(/^172\.17\.\d+\.\d+$/);
    expect(await inspect(id, '{{.NetworkSettings.Networks.bridge.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.IPPrefixLen}}')).toBe(`${ip} 172.17.0.1 16`);
    const mac = await inspect(id, '{{.NetworkSettings.MacAddress}}');
    expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect((await t.docker(['exec', id, 'cat', '/sys/class/net/eth0/address'])).stdout.trim()).toBe(mac);
    // Docker's /etc/hosts has the container's address with its hostname (the short ID).
    expect((await t.docker(['exec', id, 'cat', '/etc/hosts'])).stdout).toContain(`${ip}\t${id.slice(0, 12)}`);
    expect((await t.docker(['exec', id, 'hostname'])).stdout.trim()).toBe(id.slice(0, 12));
    expect((await t.docker(['exec', id, 'cat', '/etc/resolv.conf'])).stdout).not.toMatch(/nameserver 127\./);
    let got = '';
    for (let i = 0; i < 20 && !got.includes('hello'); i++) {
      // (busybox's wget -T crashes: the timeout is the CLI's.)
      const b = await t.docker(['run', '--rm', IMAGE, 'wget', '-qO-', `http://${ip}/index.html`], { timeoutMs: 10_000 });
      got = b.stdout;
      if (!got.includes('hello')) await sleep(200);
    }
    expect(got).toBe('hello from A\n');
    expect((await t.docker(['rm', '-f', id])).code).toBe(0);
    expect(networkLeftovers()).toEqual([]);
  });

  it('docker restart: torn down at the stop, a new address at the start; stop leaves nothing', async () => {
    const id = (await t.docker(['run', '-d', IMAGE, 'sleep', '1000'])).stdout.trim();
    seen.push(id);
    expect(await inspect(id, '{{.NetworkSettings.IPAddress}}')).toMatch(/^172\.17\./);
    expect((await t.docker(['restart', '-t', '0', id])).code).toBe(0);
    const ip = await inspect(id, '{{.NetworkSettings.IPAddress}}');
    expect(ip).toMatch(/^172\.17\./);
    expect((await t.docker(['exec', id, 'ip', '-4', 'addr', 'show', 'eth0'])).stdout).toContain(`inet ${ip}/16`);
    expect((await t.docker(['stop', '-t', '0', id])).code).toBe(0);
    expect(await inspect(id, '{{.NetworkSettings.IPAddress}}|{{.NetworkSettings.Networks.bridge.IPAddress}}')).toBe('|');
    // The stopped container keeps its record, nothing of its network.
    expect(networkLeftovers().filter((l) => !l.startsWith('netns pin'))).toEqual([]);
    expect(existsSync(join(t.execRoot, 'netns', id))).toBe(false);
  });

  it('a restart policy\'s runs each get an address (a new namespace per run); the last exit leaves nothing', async () => {
    const id = (await t.docker(['run', '-d', '--restart', 'on-failure:2', IMAGE, 'sh', '-c', 'ip -4 addr show eth0 | grep -o "inet 172[.0-9]*"; exit 1'])).stdout.trim();
    seen.push(id);
    let state = '';
    for (let i = 0; i < 100 && state !== 'exited 2'; i++) {
      await sleep(100);
      state = await inspect(id, '{{.State.Status}} {{.RestartCount}}');
    }
    expect(state).toBe('exited 2');
    const lines = (await t.docker(['logs', id])).stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/^inet 172\.17\.\d+\.\d+$/);
    // The record says exited before the DEL after the exit has finished.
    for (let i = 0; i < 50 && networkLeftovers().length; i++) await sleep(100);
    expect(networkLeftovers()).toEqual([]);
    expect(existsSync(join(t.execRoot, 'netns', id))).toBe(false);
  });

  it('docker create pins a namespace and writes the /etc files (no address yet); docker rm removes them', async () => {
    const id = (await t.docker(['create', IMAGE, 'true'])).stdout.trim();
    seen.push(id);
    expect(existsSync(join(t.execRoot, 'netns', id))).toBe(true);
    expect(await inspect(id, '{{.NetworkSettings.IPAddress}}|{{.HostConfig.NetworkMode}}|{{.NetworkSettings.SandboxKey}}')).toBe('|default|');
    expect(await inspect(id, '{{.HostsPath}}')).toBe(join(t.dataRoot, 'containers', id, 'hosts'));
    expect((await t.docker(['rm', id])).code).toBe(0);
    expect(networkLeftovers()).toEqual([]);
  });

  it('a failed start (no such executable) leaves no veth, namespace or address', async () => {
    const r = await t.docker(['run', '--rm', IMAGE, '/no/such/file']);
    expect(r.code).not.toBe(0);
    for (let i = 0; i < 50 && (await t.docker(['ps', '-aq'])).stdout.trim(); i++) await sleep(100);
    expect(networkLeftovers()).toEqual([]);
  });

  it('a container running across kill -9 of tsd keeps its address, stays reachable, and the next tsd tears it down', async () => {
    const id = (await t.docker(['run', '-d', IMAGE, 'sleep', '1000'])).stdout.trim();
    seen.push(id);
    const ip = await inspect(id, '{{.NetworkSettings.IPAddress}}');
    seen.push(ip);
    await t.kill9();
    await t.restart();
    expect(await inspect(id, '{{.State.Status}} {{.NetworkSettings.IPAddress}}')).toBe(`running ${ip}`);
    expect((await t.docker(['ps', '--format', '{{.ID}} {{.Networks}}'])).stdout.trim()).toBe(`${id.slice(0, 12)} bridge`);
    expect((await t.docker(['run', '--rm', IMAGE, 'ping', '-c', '1', '-W', '2', ip])).code).toBe(0);
    // Its network was CHECKed after the start (in the background, ~100 ms), and found whole.
    await sleep(500);
    expect(t.log()).not.toContain('reconciling the network');
    expect((await t.docker(['rm', '-f', id])).code).toBe(0);
    expect(networkLeftovers()).toEqual([]);
  });

  it('a running container whose eth0 went away while tsd was down: the CHECK at start warns; rm still cleans up', async () => {
    const id = (await t.docker(['run', '-d', IMAGE, 'sleep', '1000'])).stdout.trim();
    seen.push(id, await inspect(id, '{{.NetworkSettings.IPAddress}}'));
    await t.kill9();
    execFileSync('nsenter', [`--net=${join(t.execRoot, 'netns', id)}`, 'ip', 'link', 'del', 'eth0']);
    await t.restart();
    const broken = new RegExp(`reconciling the network of running container ${id}: CNI CHECK of plugin bridge`);
    for (let i = 0; i < 50 && !broken.test(t.log()); i++) await sleep(100);
    expect(t.log()).toMatch(broken);
    expect((await t.docker(['rm', '-f', id])).code).toBe(0);
    expect(networkLeftovers()).toEqual([]);
  });

  it('after kill -9 of tsd and a restart: the exit of a container that died meanwhile tears its network down, and stray allocations and pins are reconciled', async () => {
    const id = (await t.docker(['run', '-d', IMAGE, 'sleep', '1000'])).stdout.trim();
    seen.push(id);
    const ip = await inspect(id, '{{.NetworkSettings.IPAddress}}');
    seen.push(ip);
    const pid = Number(await inspect(id, '{{.State.Pid}}'));
    await t.kill9();
    process.kill(pid, 'SIGKILL');
    // What a crash half way through a set-up leaves for a container with no record.
    const ghost = 'f'.repeat(64);
    seen.push(ghost);
    const ipam = join(t.dataRoot, 'network', 'ipam', 'bridge');
    mkdirSync(ipam, { recursive: true });
    writeFileSync(join(ipam, '172.17.0.250'), `${ghost}\r\neth0`);
    writeFileSync(join(t.execRoot, 'netns', ghost), '');
    execFileSync('unshare', [`--net=${join(t.execRoot, 'netns', ghost)}`, 'true']);
    await sleep(300);
    await t.restart();
    expect(await inspect(id, '{{.State.Status}}')).toBe('exited');
    expect(networkLeftovers()).toEqual([]);
    // The address is free again: the next container may get it, and runs.
    const again = await t.docker(['run', '--rm', IMAGE, 'ip', '-4', 'addr', 'show', 'eth0']);
    expect(again.stdout).toMatch(/inet 172\.17\./);
  });
});

describe('the default subnet from daemon.json bip (and --bip checked at start)', () => {
  it('bip 10.99.0.1/30 with bridge tsd9: the one address 10.99.0.2/30 with the default route via 10.99.0.1; a second start finds none and leaves nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsd-bip-'));
    const config = join(dir, 'daemon.json');
    writeFileSync(config, JSON.stringify({ bip: '10.99.0.1/30', bridge: 'tsd9' }));
    const u = await startTsd(['--config', config], { network: true });
    try {
      expect((await u.docker(['pull', IMAGE])).code).toBe(0);
      await u.stop();
      await u.restart({ prefix: ['nsenter', `--net=${NS_PATH}`] });
      const r = await u.docker(['run', '--rm', IMAGE, 'sh', '-c', 'ip -4 addr show eth0; ip route']);
      expect(r.stdout).toContain('inet 10.99.0.2/30');
      expect(r.stdout).toContain('default via 10.99.0.1 dev eth0');
      expect(inNs('ip', ['-4', 'addr', 'show', 'tsd9'])).toContain('inet 10.99.0.1/30');
      // The address is taken: the next start fails in host-local's ADD, which is undone.
      const first = (await u.docker(['run', '-d', IMAGE, 'sleep', '1000'])).stdout.trim();
      seen.push(first);
      const second = (await u.docker(['create', IMAGE, 'true'])).stdout.trim();
      seen.push(second);
      const refused = await u.docker(['start', second]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/CNI ADD of plugin bridge \(network bridge, container [0-9a-f]{12}\).*no IP addresses available/);
      expect((await u.docker(['inspect', second, '--format', '{{.State.Status}} {{.NetworkSettings.IPAddress}}'])).stdout.trim()).toBe('created');
      expect(inNs('ip', ['-o', 'link', 'show']).split('\n').filter((l) => /^\d+: veth/.test(l))).toHaveLength(1);
      expect((await u.docker(['rm', '-f', first, second])).code).toBe(0);
      expect(networkLeftovers(u)).toEqual([]);
    } finally {
      expect(await closeAndCheck(u)).toEqual([]);
      rmSync(dir, { recursive: true, force: true });
      execFileSync('ip', ['-n', NS, 'link', 'del', 'tsd9']);
    }
  }, 60_000);

  it('--bip that is a network address is refused at start, with exit status 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsd-bip-'));
    try {
      const r = await new Promise<{ code: number; stderr: string }>((res) => {
        execFile(resolve(import.meta.dirname, '../../bin/tsd'), ['-H', `unix://${dir}/s`, '--data-root', join(dir, 'd'), '--exec-root', join(dir, 'e'), '--pidfile', join(dir, 'p'), '--bip', '10.99.0.0/24'],
          (e, _out, stderr) => res({ code: e ? (e as { code?: number }).code ?? -1 : 0, stderr }));
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--bip "10.99.0.0/24": the address is the subnet\'s network or broadcast address');
      expect(existsSync(join(dir, 'p'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('published ports (-p, -P) on the default bridge', () => {
  const curl = (url: string) => new Promise<string>((res) => {
    execFile('nsenter', [`--net=${NS_PATH}`, 'curl', '-s', '--max-time', '5', url], { encoding: 'utf8' }, (_e, out) => res(out));
  });
  const listening = () => inNs('ss', ['-Hltn']);

  it('-p 127.0.0.1:18080:80 and -p 18081:80 reached with curl from the namespace; docker port, ps and inspect show them; a taken port refuses the start and leaves nothing', async () => {
    const r = await t.docker(['run', '-d', '--name', 'pub', '-p', '127.0.0.1:18080:80', '-p', '18081:80', '-p', '8443', IMAGE, 'sh', '-c', 'echo published > /tmp/index.html && exec httpd -f -p 80 -h /tmp']);
    expect(r.stderr).toBe('');
    const id = r.stdout.trim();
    seen.push(id, await inspect(id, '{{.NetworkSettings.IPAddress}}'));
    let got = '';
    for (let i = 0; i < 20 && got !== 'published\n'; i++) {
      got = await curl('http://127.0.0.1:18080/index.html');
      if (got !== 'published\n') await sleep(200);
    }
    expect(got).toBe('published\n');
    // 0.0.0.0: the bridge's own address too (DNAT of local traffic).
    expect(await curl('http://172.17.0.1:18081/index.html')).toBe('published\n');
    const port = (await t.docker(['port', 'pub'])).stdout.trim().split('\n').sort();
    expect(port.filter((l) => !l.startsWith('8443'))).toEqual(['80/tcp -> 0.0.0.0:18081', '80/tcp -> 127.0.0.1:18080']);
    expect(port.find((l) => l.startsWith('8443'))).toMatch(/^8443\/tcp -> 0\.0\.0\.0:\d+$/);
    const ps = (await t.docker(['ps', '--format', '{{.Ports}}', '--filter', 'name=pub'])).stdout;
    expect(ps).toContain('127.0.0.1:18080->80/tcp');
    expect(await inspect(id, '{{json .HostConfig.PortBindings}}')).toContain('"HostPort":"18080"');

    const taken = await t.docker(['run', '-d', '--name', 'taken', '-p', '127.0.0.1:18080:80', IMAGE, 'sleep', '100']);
    expect(taken.code).toBe(125);
    expect(taken.stderr).toMatch(/publish 127\.0\.0\.1:18080\/tcp \(HostConfig\.PortBindings\["80\/tcp"\]\[0\]\): bind: EADDRINUSE: port is already allocated/);
    seen.push((await t.docker(['inspect', 'taken', '--format', '{{.Id}}'])).stdout.trim());
    expect(await inspect('taken', '{{.State.Status}}')).toBe('created');
    await t.docker(['rm', 'taken']);

    await t.docker(['stop', '-t', '1', 'pub']);
    expect(listening()).not.toMatch(/:18080\b/);
    expect(await curl('http://127.0.0.1:18080/index.html')).toBe('');
    // Started again, the same ports come back.
    expect((await t.docker(['start', 'pub'])).code).toBe(0);
    expect(listening()).toMatch(/127\.0\.0\.1:18080\b/);
  });

  it('-P publishes what the request exposes on ephemeral ports; bad -p values are 400s naming the field', async () => {
    const r = await t.docker(['run', '-d', '--expose', '9000', '-P', IMAGE, 'sleep', '1000']);
    expect(r.stderr).toBe('');
    const id = r.stdout.trim();
    seen.push(id);
    expect((await t.docker(['port', id, '9000/tcp'])).stdout.trim()).toMatch(/^0\.0\.0\.0:\d+$/);
    const bad = await t.docker(['run', '--rm', '-p', '::1:8080:80', IMAGE, 'true']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/IPv6 host addresses are not supported/);
  });

  it('-p 127.0.0.1:18053:5353/udp: a datagram to the host port reaches the container and its answer comes back, from 127.0.0.1 and the bridge\'s address', async () => {
    const bin = join(t.dir, 'udpecho');
    execFileSync('gcc', ['-static', '-O2', '-o', bin, join(import.meta.dirname, '../helpers/udpecho.c')]);
    const r = await t.docker(['run', '-d', '--name', 'udp', '-p', '127.0.0.1:18053:5353/udp', '-p', '18054:5353/udp', '-v', `${bin}:/udpecho:ro`, IMAGE, '/udpecho', '5353']);
    expect(r.stderr).toBe('');
    const id = r.stdout.trim();
    seen.push(id, await inspect(id, '{{.NetworkSettings.IPAddress}}'));
    const ask = (host: string, port: number, tries = 10) => inNs('python3', ['-c', `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
for i in range(${tries}):
    s.sendto(b'ping', ('${host}', ${port}))
    try:
        print(s.recvfrom(100)[0].decode()); break
    except socket.timeout:
        pass`]).trim();
    expect(ask('127.0.0.1', 18053)).toBe('echo:ping');
    expect(ask('172.17.0.1', 18054)).toBe('echo:ping');
    expect((await t.docker(['port', 'udp'])).stdout.trim().split('\n').sort()).toEqual(['5353/udp -> 0.0.0.0:18054', '5353/udp -> 127.0.0.1:18053']);
    expect((await t.docker(['ps', '--format', '{{.Ports}}', '--filter', 'name=udp'])).stdout).toContain('127.0.0.1:18053->5353/udp');
    expect((await t.docker(['rm', '-f', id])).code).toBe(0);
    expect(ask('127.0.0.1', 18053, 2)).toBe('');
  });

  it('after kill -9 of tsd and a restart, a running container keeps its published port', async () => {
    const r = await t.docker(['run', '-d', '-p', '127.0.0.1:18090:80', IMAGE, 'sh', '-c', 'echo again > /tmp/index.html && exec httpd -f -p 80 -h /tmp']);
    const id = r.stdout.trim();
    seen.push(id, await inspect(id, '{{.NetworkSettings.IPAddress}}'));
    await t.kill9();
    await t.restart({ prefix: ['nsenter', `--net=${NS_PATH}`] });
    expect(listening()).toMatch(/127\.0\.0\.1:18090\b/);
    let got = '';
    for (let i = 0; i < 20 && got !== 'again\n'; i++) {
      got = await curl('http://127.0.0.1:18090/index.html');
      if (got !== 'again\n') await sleep(200);
    }
    expect(got).toBe('again\n');
    expect((await t.docker(['port', id])).stdout.trim()).toBe('80/tcp -> 127.0.0.1:18090');
  });
});
