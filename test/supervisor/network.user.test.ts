// User-defined networks with the real docker CLI: docker network create, ls,
// inspect, rm, prune, and containers run on them (run --network NAME). tsd
// runs inside a network namespace this file creates (as network.test.ts), so
// bridges, veths and iptables rules stay there; traffic goes only between the
// test's containers. After each test nothing is left: no veth, pin, endpoint,
// allocation, bridge of a removed network, or iptables rule naming one of the
// test's containers.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestNetns } from './netns.js';
import { closeAndCheck, type Tsd } from './tsd.js';

const ns = new TestNetns();
const IMAGE = 'busybox';
let t: Tsd;
/** Every container this file ran (their IDs and addresses must not stay in iptables). */
const seen = ns.seen;

const inNs = (cmd: string, args: string[]) => ns.run(cmd, args);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  // --dns 127.0.0.1: names the networks do not own are forwarded only to the namespace's loopback (nothing leaves the machine).
  t = await ns.startTsd([...(process.env.TSD_TEST_RUNTIME ? ['--runtime', process.env.TSD_TEST_RUNTIME] : []), '--dns', '127.0.0.1'], IMAGE);
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
  const nets = (await t.docker(['network', 'ls', '-q', '--filter', 'type=custom'])).stdout.split('\n').filter(Boolean);
  if (nets.length) await t.docker(['network', 'rm', ...nets]);
  expect(networkLeftovers()).toEqual([]);
});

async function inspect(id: string, format: string): Promise<string> {
  return (await t.docker(['inspect', id, '--format', format])).stdout.trim();
}

describe('docker network create, ls, inspect, rm, prune', () => {
  it('create with --subnet --gateway --ip-range --internal --label -o bridge.name: inspect echoes them; ls filters; a free subnet is chosen otherwise', async () => {
    const c = await t.docker(['network', 'create', '--subnet', '10.77.0.0/16', '--gateway', '10.77.0.254', '--ip-range', '10.77.5.0/24', '--internal',
      '--label', 'tier=back', '-o', 'com.docker.network.bridge.name=tsdnet77', 'back']);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    const id = c.stdout.trim();
    expect(id).toMatch(/^[a-f0-9]{64}$/);
    const n = JSON.parse((await t.docker(['network', 'inspect', 'back'])).stdout)[0];
    expect(n).toMatchObject({
      Name: 'back', Id: id, Scope: 'local', Driver: 'bridge', EnableIPv6: false, Internal: true,
      IPAM: { Driver: 'default', Config: [{ Subnet: '10.77.0.0/16', Gateway: '10.77.0.254', IPRange: '10.77.5.0/24' }] },
      Options: { 'com.docker.network.bridge.name': 'tsdnet77' }, Labels: { tier: 'back' }, Containers: {},
    });
    expect(Date.parse(n.Created)).toBeGreaterThan(Date.now() - 60_000);
    // No subnet given: the first free pool past the default bridge's (172.17.0.0/16 here).
    expect((await t.docker(['network', 'create', 'front'])).code).toBe(0);
    expect(await inspect('front', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Internal}}')).toBe('172.18.0.0/16 172.18.0.1 false');
    expect((await t.docker(['network', 'create', 'third'])).code).toBe(0);
    expect(await inspect('third', '{{range .IPAM.Config}}{{.Subnet}}{{end}}')).toBe('172.19.0.0/16');
    const ls = (await t.docker(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}'])).stdout.trim().split('\n').sort();
    expect(ls).toEqual(['back bridge local', 'bridge bridge local', 'front bridge local', 'host host local', 'none null local', 'third bridge local']);
    expect((await t.docker(['network', 'ls', '--filter', 'label=tier=back', '--format', '{{.Name}}'])).stdout.trim()).toBe('back');
    expect((await t.docker(['network', 'ls', '--filter', 'name=fro', '--format', '{{.Name}}'])).stdout.trim()).toBe('front');
    expect((await t.docker(['network', 'ls', '--filter', 'driver=null', '--format', '{{.Name}}'])).stdout.trim()).toBe('none');
    expect((await t.docker(['network', 'ls', '-q', '--filter', `id=${id.slice(0, 12)}`])).stdout.trim()).toBe(id.slice(0, 12));
    // Refusals, with dockerd's words.
    const dup = await t.docker(['network', 'create', 'front']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toContain('network with name front already exists');
    const overlap = await t.docker(['network', 'create', '--subnet', '172.18.5.0/24', 'clash']);
    expect(overlap.stderr).toContain('Pool overlaps with other one on this address space');
    expect((await t.docker(['network', 'create', '--subnet', '10.1.0.0/16', '--gateway', '10.2.0.1', 'badgw'])).code).not.toBe(0);
    expect((await t.docker(['network', 'ls', '-q'])).stdout.trim().split('\n')).toHaveLength(6);
    for (const p of ['bridge', 'host', 'none']) {
      const r = await t.docker(['network', 'rm', p]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`${p} is a pre-defined network and cannot be removed`);
    }
    expect((await t.docker(['network', 'inspect', 'nosuch'])).stderr).toContain('network nosuch not found');
    expect((await t.docker(['network', 'rm', 'back', 'front'])).stdout.trim().split('\n')).toEqual(['back', 'front']);
    const pr = await t.docker(['network', 'prune', '-f']);
    expect(pr.stdout).toContain('third');
    expect((await t.docker(['network', 'ls', '--format', '{{.Name}}'])).stdout.trim().split('\n').sort()).toEqual(['bridge', 'host', 'none']);
  });

  it('the records survive a tsd restart', async () => {
    expect((await t.docker(['network', 'create', '--label', 'k=v', 'kept'])).code).toBe(0);
    const before = await inspect('kept', '{{.Id}} {{range .IPAM.Config}}{{.Subnet}}{{end}} {{.Labels}}');
    await t.stop();
    await t.restart();
    expect(await inspect('kept', '{{.Id}} {{range .IPAM.Config}}{{.Subnet}}{{end}} {{.Labels}}')).toBe(before);
  });
});

describe('containers on a user network', () => {
  it('run --network NAME: an address in its subnet on its bridge; inspect Networks.NAME and the network\'s Containers; rm refused while it runs', async () => {
    const netId = (await t.docker(['network', 'create', '--subnet', '10.88.0.0/24', 'app'])).stdout.trim();
    const r = await t.docker(['run', '-d', '--name', 'one', '--network', 'app', IMAGE, 'sleep', '1000']);
    expect(r.stderr).toBe('');
    const id = r.stdout.trim();
    seen.push(id);
    const ip = await inspect(id, '{{.NetworkSettings.Networks.app.IPAddress}}');
    expect(ip).toMatch(/^10\.88\.0\.\d+$/);
    seen.push(ip);
    expect(await inspect(id, '{{.HostConfig.NetworkMode}} {{.NetworkSettings.Networks.app.Gateway}} {{.NetworkSettings.Networks.app.IPPrefixLen}}')).toBe('app 10.88.0.1 24');
    expect((await t.docker(['exec', id, 'ip', '-4', 'route'])).stdout).toContain('default via 10.88.0.1');
    expect(inNs('ip', ['-o', 'link', 'show', `br-${netId.slice(0, 12)}`])).toContain('UP');
    const n = JSON.parse((await t.docker(['network', 'inspect', 'app'])).stdout)[0];
    expect(Object.keys(n.Containers)).toEqual([id]);
    expect(n.Containers[id]).toMatchObject({ Name: 'one', IPv4Address: `${ip}/24`, MacAddress: await inspect(id, '{{.NetworkSettings.Networks.app.MacAddress}}') });
    expect(n.Containers[id].EndpointID).toMatch(/^[a-f0-9]{64}$/);
    const rm = await t.docker(['network', 'rm', 'app']);
    expect(rm.code).not.toBe(0);
    expect(rm.stderr).toContain(`error while removing network: network app id ${netId} has active endpoints`);
    // The prune keeps it too.
    expect((await t.docker(['network', 'prune', '-f'])).stdout).not.toContain('app');
    expect((await t.docker(['rm', '-f', id])).code).toBe(0);
    expect((await t.docker(['network', 'rm', 'app'])).code).toBe(0);
    expect(inNs('ip', ['-o', 'link', 'show']).includes(`br-${netId.slice(0, 12)}`)).toBe(false);
  });

  it('create --network with an unknown network is refused (dockerd\'s 404) and leaves nothing', async () => {
    // (The CLI takes a 404 from create for a missing image and tries a pull, which cannot leave the namespace.)
    expect((await t.docker(['create', '--network', 'nosuch', IMAGE])).code).not.toBe(0);
    const out = execFileSync('curl', ['-s', '-w', ' %{http_code}', '--unix-socket', t.socket, '-H', 'Content-Type: application/json',
      '-d', JSON.stringify({ Image: IMAGE, HostConfig: { NetworkMode: 'nosuch' } }), 'http://d/v1.41/containers/create'], { encoding: 'utf8' });
    expect(out).toBe('{"message":"network nosuch not found"} 404');
    expect((await t.docker(['ps', '-aq'])).stdout).toBe('');
  });

  it('isolation: a container on net A (or the default bridge) cannot reach one on net B, which its own network reaches; --internal has no route out', async () => {
    expect((await t.docker(['network', 'create', '--subnet', '10.81.0.0/24', 'neta'])).code).toBe(0);
    expect((await t.docker(['network', 'create', '--subnet', '10.82.0.0/24', 'netb'])).code).toBe(0);
    expect((await t.docker(['network', 'create', '--internal', '--subnet', '10.83.0.0/24', 'closed'])).code).toBe(0);
    const web = (await t.docker(['run', '-d', '--network', 'netb', IMAGE, 'sh', '-c', 'echo hello from B > /tmp/index.html && exec httpd -f -p 80 -h /tmp'])).stdout.trim();
    seen.push(web);
    const ip = await inspect(web, '{{.NetworkSettings.Networks.netb.IPAddress}}');
    expect(ip).toMatch(/^10\.82\.0\./);
    seen.push(ip);
    const fetch = async (net: string, url = `http://${ip}/index.html`) =>
      (await t.docker(['run', '--rm', '--network', net, IMAGE, 'sh', '-c', `timeout 2 wget -qO- ${url}; echo rc=$?`], { timeoutMs: 15_000 })).stdout;
    let same = '';
    for (let i = 0; i < 20 && !same.includes('hello'); i++) same = await fetch('netb');
    expect(same).toBe('hello from B\nrc=0\n');
    expect(await fetch('neta')).not.toContain('hello');
    expect(await fetch('bridge')).not.toContain('hello');
    // The internal network: no default route, so nothing beyond its subnet.
    const routes = (await t.docker(['run', '--rm', '--network', 'closed', IMAGE, 'ip', '-4', 'route'])).stdout;
    expect(routes).toMatch(/^10\.83\.0\.0\/24 dev eth0/);
    expect(routes).not.toContain('default');
    expect(await fetch('closed')).not.toContain('hello');
    // The isolation rules name each network's bridge; they go with network rm.
    const before = inNs('iptables-save', ['-t', 'filter']);
    const bridgeB = `br-${(await inspect('netb', '{{.Id}}')).slice(0, 12)}`;
    expect(before).toContain(`-A TSD-ISOLATION-STAGE-2 -o ${bridgeB} -j DROP`);
    expect((await t.docker(['rm', '-f', web])).code).toBe(0);
    expect((await t.docker(['network', 'rm', 'netb'])).code).toBe(0);
    expect(inNs('iptables-save', ['-t', 'filter'])).not.toContain(bridgeB);
  });

  it('--ip on a user network: that address (and inspect IPAMConfig, Aliases); refused on the default bridge and outside the subnet; a taken one refuses the start and leaves nothing', async () => {
    expect((await t.docker(['network', 'create', '--subnet', '10.84.0.0/24', 'fixed'])).code).toBe(0);
    const r = await t.docker(['run', '-d', '--network', 'fixed', '--ip', '10.84.0.50', '--network-alias', 'db', IMAGE, 'sleep', '1000']);
    expect(r.stderr).toBe('');
    const id = r.stdout.trim();
    seen.push(id, '10.84.0.50');
    expect((await t.docker(['exec', id, 'ip', '-4', 'addr', 'show', 'eth0'])).stdout).toContain('inet 10.84.0.50/24');
    expect(await inspect(id, '{{.NetworkSettings.Networks.fixed.IPAddress}} {{.NetworkSettings.Networks.fixed.IPAMConfig.IPv4Address}} {{.NetworkSettings.Networks.fixed.Aliases}}'))
      .toBe(`10.84.0.50 10.84.0.50 [db ${id.slice(0, 12)}]`);
    // The same address again: host-local refuses it at start; nothing of that start stays.
    const twice = await t.docker(['run', '-d', '--network', 'fixed', '--ip', '10.84.0.50', IMAGE, 'sleep', '1000']);
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toContain('10.84.0.50');
    const dflt = await t.docker(['create', '--ip', '172.17.0.9', IMAGE]);
    expect(dflt.code).not.toBe(0);
    expect(dflt.stderr).toContain('user specified IP address is supported on user defined networks only');
    const outside = await t.docker(['create', '--network', 'fixed', '--ip', '10.85.0.9', IMAGE]);
    expect(outside.stderr).toContain('no configured subnet or ip-range contain the IP address 10.85.0.9');
    const ids = (await t.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    expect(ids).toHaveLength(2); // the running one and the one whose start failed
    expect(readdirSync(join(t.dataRoot, 'network', 'ipam', 'fixed')).filter((f) => /^[\d.]+$/.test(f))).toEqual(['10.84.0.50']);
  });

  it('names on a user network: a container fetches a page from another BY NAME; an alias and the short ID resolve; an unknown name does not hang; resolv.conf names the gateway; the server goes with network rm', async () => {
    expect((await t.docker(['network', 'create', '--subnet', '10.86.0.0/24', 'names'])).code).toBe(0);
    const web = (await t.docker(['run', '-d', '--name', 'web', '--network', 'names', '--network-alias', 'site', IMAGE, 'sh', '-c', 'echo hello by name > /tmp/index.html && exec httpd -f -p 80 -h /tmp'])).stdout.trim();
    seen.push(web);
    const ip = await inspect(web, '{{.NetworkSettings.Networks.names.IPAddress}}');
    seen.push(ip);
    expect(inNs('ss', ['-lun'])).toContain('10.86.0.1:53');
    const client = (await t.docker(['run', '-d', '--name', 'client', '--network', 'names', IMAGE, 'sleep', '1000'])).stdout.trim();
    seen.push(client);
    expect((await t.docker(['exec', client, 'cat', '/etc/resolv.conf'])).stdout).toMatch(/^nameserver 10\.86\.0\.1\n/);
    let got = '';
    for (let i = 0; i < 20 && !got.includes('hello'); i++) got = (await t.docker(['exec', client, 'sh', '-c', 'timeout 3 wget -qO- http://web/index.html'], { timeoutMs: 10_000 })).stdout;
    expect(got).toBe('hello by name\n');
    for (const name of ['site', web.slice(0, 12), 'client']) {
      const r = await t.docker(['exec', client, 'nslookup', name], { timeoutMs: 10_000 });
      expect(r.stdout).toContain(name === 'client' ? (await inspect(client, '{{.NetworkSettings.Networks.names.IPAddress}}')) : ip);
    }
    // docker rename: the new name answers, the old one no longer does (its lookup is forwarded, and fails).
    expect((await t.docker(['rename', 'client', 'renamed'])).code).toBe(0);
    expect((await t.docker(['exec', client, 'nslookup', 'renamed'], { timeoutMs: 10_000 })).code).toBe(0);
    expect((await t.docker(['exec', client, 'nslookup', 'client'], { timeoutMs: 20_000 })).code).not.toBe(0);
    // Restarted onto a new address (its old one taken meanwhile): the name follows it.
    expect((await t.docker(['stop', '-t', '1', 'web'])).code).toBe(0);
    const squatter = (await t.docker(['run', '-d', '--network', 'names', '--ip', ip, IMAGE, 'sleep', '1000'])).stdout.trim();
    seen.push(squatter);
    expect((await t.docker(['start', 'web'])).code).toBe(0);
    const moved = await inspect(web, '{{.NetworkSettings.Networks.names.IPAddress}}');
    seen.push(moved);
    expect(moved).not.toBe(ip);
    expect((await t.docker(['exec', client, 'nslookup', 'web'], { timeoutMs: 10_000 })).stdout).toMatch(new RegExp(`Address: ${moved.replace(/\./g, '\\.')}$`, 'm'));
    expect((await t.docker(['exec', client, 'nslookup', 'site'], { timeoutMs: 10_000 })).stdout).not.toContain(`Address: ${ip}\n`);
    got = '';
    for (let i = 0; i < 20 && !got.includes('hello'); i++) got = (await t.docker(['exec', client, 'sh', '-c', 'timeout 3 wget -qO- http://web/index.html'], { timeoutMs: 10_000 })).stdout;
    expect(got).toBe('hello by name\n');
    expect((await t.docker(['rm', '-f', squatter])).code).toBe(0);
    // A name the network does not own goes to --dns 127.0.0.1, where nothing answers: an error, soon.
    const started = Date.now();
    const unknown = await t.docker(['exec', client, 'nslookup', 'no-such-name.invalid'], { timeoutMs: 20_000 });
    expect(unknown.code).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    // The default bridge has no name resolution (as Docker).
    expect((await t.docker(['run', '--rm', IMAGE, 'sh', '-c', 'grep -c 10.86.0.1 /etc/resolv.conf'])).stdout.trim()).toBe('0');
    expect((await t.docker(['rm', '-f', web, client])).code).toBe(0);
    const nrm = await t.docker(['network', 'rm', 'names']);
    expect(nrm.stderr).toBe('');
    expect(inNs('ss', ['-lun'])).not.toContain('10.86.0.1:53');
  });

  it('--network container:<id>: the other container\'s namespace (its address and /etc files); refused while that one does not run', async () => {
    expect((await t.docker(['network', 'create', '--subnet', '10.87.0.0/24', 'shared'])).code).toBe(0);
    const a = (await t.docker(['run', '-d', '--network', 'shared', IMAGE, 'sh', '-c', 'echo from A > /tmp/index.html && exec httpd -f -p 8080 -h /tmp'])).stdout.trim();
    seen.push(a);
    const ip = await inspect(a, '{{.NetworkSettings.Networks.shared.IPAddress}}');
    seen.push(ip);
    const b = await t.docker(['run', '--rm', '--network', `container:${a.slice(0, 12)}`, IMAGE, 'sh', '-c', 'ip -4 addr show eth0; cat /etc/resolv.conf; sleep 0.3; wget -qO- http://127.0.0.1:8080/index.html']);
    expect(b.stderr).toBe('');
    expect(b.stdout).toContain(`inet ${ip}/24`);
    expect(b.stdout).toContain('nameserver 10.87.0.1');
    expect(b.stdout).toContain('from A');
    const created = (await t.docker(['create', IMAGE, 'true'])).stdout.trim();
    const refused = await t.docker(['create', '--network', `container:${created}`, IMAGE]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`cannot join network of a non running container: ${created}`);
  });
});

describe('docker network connect and disconnect', () => {
  const events = async (since: number) => (await t.docker(['events', '--since', String(since / 1000), '--until', String(Date.now() / 1000 + 1),
    '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.container}}'])).stdout.trim().split('\n').filter(Boolean);

  it('a running container: connect gives it eth1 on the other network, its names there (--alias) and theirs; inspect shows both; disconnect takes it away; dockerd\'s refusals', async () => {
    expect((await t.docker(['network', 'create', '--subnet', '10.91.0.0/24', 'front'])).code).toBe(0);
    expect((await t.docker(['network', 'create', '--subnet', '10.92.0.0/24', 'back'])).code).toBe(0);
    const since = Date.now();
    const db = (await t.docker(['run', '-d', '--name', 'db', '--network', 'back', IMAGE, 'sh', '-c', 'echo from db > /tmp/index.html && exec httpd -f -p 80 -h /tmp'])).stdout.trim();
    const app = (await t.docker(['run', '-d', '--name', 'app', '--network', 'front', IMAGE, 'sleep', '1000'])).stdout.trim();
    seen.push(db, app);
    const c = await t.docker(['network', 'connect', '--alias', 'api', 'back', 'app']);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    const addrs = (await t.docker(['exec', app, 'ip', '-4', '-o', 'addr', 'show'])).stdout;
    expect(addrs).toMatch(/eth0\s+inet 10\.91\.0\.\d+\/24/);
    expect(addrs).toMatch(/eth1\s+inet 10\.92\.0\.\d+\/24/);
    const backIp = await inspect(app, '{{.NetworkSettings.Networks.back.IPAddress}}');
    seen.push(backIp, await inspect(app, '{{.NetworkSettings.Networks.front.IPAddress}}'));
    const nets = JSON.parse(await inspect(app, '{{json .NetworkSettings.Networks}}'));
    expect(Object.keys(nets).sort()).toEqual(['back', 'front']);
    expect(nets.back).toMatchObject({ NetworkID: await inspect('back', '{{.Id}}'), IPAddress: backIp, Gateway: '10.92.0.1', Aliases: ['api', app.slice(0, 12)] });
    expect(nets.back.EndpointID).toMatch(/^[a-f0-9]{64}$/);
    expect(nets.front.NetworkID).toBe(await inspect('front', '{{.Id}}'));
    expect(Object.keys(JSON.parse((await t.docker(['network', 'inspect', 'back'])).stdout)[0].Containers).sort()).toEqual([app, db].sort());
    // app asks front's name server (its resolv.conf) for db, a name of back: answered, as Docker's resolver answers every network of the container.
    let got = '';
    for (let i = 0; i < 20 && !got.includes('from db'); i++) got = (await t.docker(['exec', app, 'sh', '-c', 'timeout 3 wget -qO- http://db/index.html'], { timeoutMs: 10_000 })).stdout;
    expect(got).toBe('from db\n');
    // db (only on back) resolves app's alias on back to app's back address.
    expect((await t.docker(['exec', db, 'nslookup', 'api'], { timeoutMs: 10_000 })).stdout).toContain(backIp);
    // Refusals.
    const again = await t.docker(['network', 'connect', 'back', 'app']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('endpoint with name app already exists in network back');
    expect((await t.docker(['network', 'connect', 'nosuch', 'app'])).stderr).toContain('network nosuch not found');
    expect((await t.docker(['network', 'connect', 'back', 'nosuch'])).stderr).toContain('No such container: nosuch');
    expect((await t.docker(['network', 'connect', '--ip', '10.92.0.77', 'bridge', 'db'])).stderr).toContain('user specified IP address is supported on user defined networks only');
    const hostC = (await t.docker(['create', '--network', 'host', IMAGE, 'true'])).stdout.trim();
    expect((await t.docker(['network', 'connect', 'back', hostC])).stderr).toContain('container sharing network namespace with another container or host cannot be connected to any other network');
    const noneC = (await t.docker(['create', '--network', 'none', IMAGE, 'true'])).stdout.trim();
    expect((await t.docker(['network', 'connect', 'back', noneC])).stderr).toContain('container cannot be connected to multiple networks with one of the networks in private (none) mode');
    expect((await t.docker(['network', 'connect', 'host', 'app'])).stderr).toContain('container cannot be disconnected from host network or connected to host network');
    // network rm is refused while app is connected.
    expect((await t.docker(['network', 'rm', 'back'])).stderr).toContain('has active endpoints');
    // Disconnect: eth1 and its address go; its names on back stop answering there.
    const d = await t.docker(['network', 'disconnect', 'back', 'app']);
    expect(d.stderr).toBe('');
    expect((await t.docker(['exec', app, 'ip', '-4', '-o', 'addr', 'show'])).stdout).not.toContain('eth1');
    expect(Object.keys(JSON.parse(await inspect(app, '{{json .NetworkSettings.Networks}}')))).toEqual(['front']);
    expect(Object.keys(JSON.parse((await t.docker(['network', 'inspect', 'back'])).stdout)[0].Containers)).toEqual([db]);
    expect((await t.docker(['exec', db, 'nslookup', 'api'], { timeoutMs: 20_000 })).code).not.toBe(0);
    const twice = await t.docker(['network', 'disconnect', 'back', 'app']);
    expect(twice.stderr).toContain(`container ${app} is not connected to network back`);
    expect(await events(since)).toEqual(expect.arrayContaining([`connect back ${db}`, `connect front ${app}`, `connect back ${app}`, `disconnect back ${app}`]));
    expect((await t.docker(['rm', '-f', db, app, hostC, noneC])).code).toBe(0);
    expect((await t.docker(['network', 'rm', 'front', 'back'])).code).toBe(0);
  });

  it('a created container connected to a second network gets both at start (eth0 its own, eth1 the other), both again after a restart; a default-bridge container connected to a user network resolves its names', async () => {
    expect((await t.docker(['network', 'create', '--subnet', '10.93.0.0/24', 'one'])).code).toBe(0);
    expect((await t.docker(['network', 'create', '--subnet', '10.94.0.0/24', 'two'])).code).toBe(0);
    const id = (await t.docker(['create', '--name', 'both', '--network', 'one', IMAGE, 'sleep', '1000'])).stdout.trim();
    seen.push(id);
    expect((await t.docker(['network', 'connect', '--ip', '10.94.0.40', 'two', 'both'])).code).toBe(0);
    // The same again on a container that does not run: dockerd changes nothing and says nothing.
    expect((await t.docker(['network', 'connect', 'two', 'both'])).code).toBe(0);
    expect(await inspect(id, '{{.NetworkSettings.Networks.two.IPAMConfig.IPv4Address}}|{{.NetworkSettings.Networks.two.IPAddress}}|')).toBe('10.94.0.40||');
    expect((await t.docker(['start', id])).code).toBe(0);
    const addrs = async () => (await t.docker(['exec', id, 'ip', '-4', '-o', 'addr', 'show'])).stdout;
    expect(await addrs()).toMatch(/eth0\s+inet 10\.93\.0\.\d+\/24/);
    expect(await addrs()).toContain('eth1    inet 10.94.0.40/24');
    seen.push('10.94.0.40', await inspect(id, '{{.NetworkSettings.Networks.one.IPAddress}}'));
    expect((await t.docker(['restart', '-t', '0', id])).code).toBe(0);
    expect(await addrs()).toContain('inet 10.94.0.40/24');
    expect(await addrs()).toMatch(/eth0\s+inet 10\.93\.0\./);
    // Stopped: disconnect edits the record only; the next start has one network.
    expect((await t.docker(['stop', '-t', '0', id])).code).toBe(0);
    expect(networkLeftovers().filter((l) => !l.startsWith('network record') && !l.startsWith('ipam dir') && !l.startsWith('bridge'))).toEqual([]);
    expect((await t.docker(['network', 'disconnect', 'one', id])).code).toBe(0);
    expect((await t.docker(['network', 'disconnect', 'one', id])).stderr).toContain(`container ${id} is not connected to the network one`);
    expect((await t.docker(['start', id])).code).toBe(0);
    expect(await addrs()).toMatch(/^\d+: eth0\s+inet 10\.94\.0\.40\/24/m);
    expect(await addrs()).not.toContain('10.93.0.');
    // A container of the default bridge: after connect, its resolv.conf names two's server and a name of two resolves.
    const plain = (await t.docker(['run', '-d', IMAGE, 'sleep', '1000'])).stdout.trim();
    seen.push(plain, await inspect(plain, '{{.NetworkSettings.IPAddress}}'));
    expect((await t.docker(['exec', plain, 'cat', '/etc/resolv.conf'])).stdout).not.toContain('10.94.0.1');
    expect((await t.docker(['network', 'connect', 'two', plain])).code).toBe(0);
    expect((await t.docker(['exec', plain, 'cat', '/etc/resolv.conf'])).stdout).toMatch(/^nameserver 10\.94\.0\.1\n/);
    expect((await t.docker(['exec', plain, 'nslookup', 'both'], { timeoutMs: 10_000 })).stdout).toContain('10.94.0.40');
    seen.push(await inspect(plain, '{{.NetworkSettings.Networks.two.IPAddress}}'));
    expect((await t.docker(['rm', '-f', id, plain])).code).toBe(0);
  });

  it('kill -9 of tsd with a container on two user networks: after the restart both endpoints are there and CHECKed; rm then leaves nothing', async () => {
    expect((await t.docker(['network', 'create', '--subnet', '10.95.0.0/24', 'k1'])).code).toBe(0);
    expect((await t.docker(['network', 'create', '--subnet', '10.96.0.0/24', 'k2'])).code).toBe(0);
    const id = (await t.docker(['run', '-d', '--network', 'k1', IMAGE, 'sleep', '1000'])).stdout.trim();
    seen.push(id);
    expect((await t.docker(['network', 'connect', 'k2', id])).code).toBe(0);
    const before = await inspect(id, '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}');
    seen.push(...before.trim().split(' ').map((p) => p.split('=')[1]));
    await t.kill9();
    await t.restart();
    expect(await inspect(id, '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}')).toBe(before);
    await sleep(500);
    expect(t.log()).not.toContain('reconciling the network');
    // A container stopped while tsd was down: the next tsd tears both endpoints down.
    const pid = Number(await inspect(id, '{{.State.Pid}}'));
    await t.kill9();
    process.kill(pid, 'SIGKILL');
    await sleep(300);
    await t.restart();
    for (let i = 0; i < 50 && (await inspect(id, '{{.State.Status}}')) === 'running'; i++) await sleep(100);
    expect(await inspect(id, '{{.State.Status}}')).toBe('exited');
    expect(readdirSync(join(t.dataRoot, 'network', 'endpoints'))).toEqual([]);
    expect((await t.docker(['rm', id])).code).toBe(0);
  });
});
