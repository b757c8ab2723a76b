// Kubernetes' path to tsrun: containerd's CRI plugin with tsrun as a RuntimeClass
// handler (io.containerd.runc.v2, options.BinaryName), driven over the CRI gRPC API
// the way the kubelet drives it. A private containerd (own root, state, socket and
// shim root) runs in a network namespace this test creates, with a local
// docker-registry on that namespace's 127.0.0.1 as its docker.io/registry.k8s.io
// mirror and the CNI bridge/host-local plugins in a private config dir: no traffic
// leaves the namespace, nothing is written to the host's CNI or runc state.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { TSRUN } from '../helpers/tsrun.js';
import { buildLayer, busyboxFiles, writeLayout } from '../images/buildImage.js';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const haveAll = have('containerd') && have('docker-registry') && have('skopeo') && have('gcc') && existsSync('/usr/lib/cni/bridge');

const base = '/run/tsrun-cri';
const sock = join(base, 'containerd.sock');
const shimRoot = join(base, 'runc-root');
/** Each handler's runtime root (the shim's --root for the runtime binary). */
const rootOf = (handler: string) => (handler === 'tsrun' ? shimRoot : `${shimRoot}-${handler}`);
const HANDLERS = ['tsrun', 'runc'];
const logDir = join(base, 'pod-logs');
const propDir = join(base, 'prop');
const netns = `tsrun-cri-${process.pid}`;
const inNetns = ['nsenter', `--net=/run/netns/${netns}`];
const REGISTRY = '127.0.0.1:5000';
const BUSYBOX = 'docker.io/library/busybox:tsrun-cri';
const PAUSE = 'registry.k8s.io/pause:tsrun-cri';
const SUBNET = '10.88.77';

let containerd: ChildProcess | undefined;
let registry: ChildProcess | undefined;
let containerdLog = '';
type Call = (method: string, req: object) => Promise<any>;
let runtime: Call;
let images: Call;

function netnsRun(cmd: string[], input?: string) {
  return spawnSync(inNetns[0], [...inNetns.slice(1), ...cmd], { encoding: 'utf8', input, timeout: 60_000 });
}

function client(service: string): Call {
  const def = protoLoader.loadSync(join(import.meta.dirname, 'cri/cri.proto'), { longs: Number, enums: String, defaults: true, keepCase: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const c = new pkg.runtime.v1[service](`unix://${sock}`, grpc.credentials.createInsecure());
  return (method, req) => new Promise((resolve, reject) => c[method](req, { deadline: Date.now() + 60_000 }, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res))));
}

/** A pause image: a static C program that waits for SIGTERM/SIGINT and reaps zombies, as the kubelet's does. */
function pauseLayout(dir: string): void {
  const work = mkdtempSync(join(tmpdir(), 'pause-'));
  try {
    writeFileSync(join(work, 'pause.c'), [
      '#include <signal.h>', '#include <sys/wait.h>', '#include <unistd.h>',
      'static void stop(int s) { (void)s; _exit(0); }',
      'static void reap(int s) { (void)s; while (waitpid(-1, 0, WNOHANG) > 0) {} }',
      'int main(void) { signal(SIGINT, stop); signal(SIGTERM, stop); signal(SIGCHLD, reap); for (;;) pause(); }',
      '',
    ].join('\n'));
    execFileSync('gcc', ['-static', '-O2', '-o', join(work, 'pause'), join(work, 'pause.c')]);
    const layer = buildLayer({ pause: { copy: join(work, 'pause') } });
    writeLayout(dir, { layers: [layer], config: { Entrypoint: ['/pause'], Cmd: [] } });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function push(layout: string, dest: string): void {
  const r = netnsRun(['skopeo', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://${REGISTRY}/${dest}`]);
  if (r.status !== 0) throw new Error(`skopeo copy to ${dest}: ${r.stderr}`);
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${containerdLog.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function containerdConfig(): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = "${base}/root"
state = "${base}/state"
[grpc]
  address = "${sock}"
[${cri}]
  sandbox_image = "${PAUSE}"
  # This host lacks CAP_SYS_RESOURCE: oom_score_adj may only be raised.
  restrict_oom_score_adj = true
[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "tsrun"
[${cri}.containerd.runtimes.tsrun]
  runtime_type = "io.containerd.runc.v2"
[${cri}.containerd.runtimes.tsrun.options]
  BinaryName = "${process.env.TSRUN_CRI_BINARY ?? TSRUN}"
  Root = "${shimRoot}"
# runc beside it, for the same cases side by side.
[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[${cri}.containerd.runtimes.runc.options]
  BinaryName = "runc"
  Root = "${rootOf('runc')}"
[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${base}/cni"
[${cri}.registry.mirrors."docker.io"]
  endpoint = ["http://${REGISTRY}"]
[${cri}.registry.mirrors."registry.k8s.io"]
  endpoint = ["http://${REGISTRY}"]
`;
}

beforeAll(async () => {
  if (!haveAll) return;
  rmSync(base, { recursive: true, force: true });
  for (const d of [base, join(base, 'cni'), logDir, propDir]) mkdirSync(d, { recursive: true });
  execFileSync('ip', ['netns', 'add', netns]);
  execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  writeFileSync(join(base, 'cni/10-tsrun-cri.conflist'), JSON.stringify({
    cniVersion: '0.4.0', name: 'tsrun-cri',
    plugins: [{
      type: 'bridge', bridge: 'tsrcri0', isGateway: true, ipMasq: false,
      ipam: { type: 'host-local', ranges: [[{ subnet: `${SUBNET}.0/24` }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(base, 'ipam') },
    }],
  }));

  writeFileSync(join(base, 'registry.yml'), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${base}/registry\nhttp:\n  addr: ${REGISTRY}\n`);
  registry = spawn(inNetns[0], [...inNetns.slice(1), 'docker-registry', 'serve', join(base, 'registry.yml')], { stdio: 'ignore' });
  await waitFor('the registry', () => netnsRun(['curl', '-sf', `http://${REGISTRY}/v2/`]).status === 0 || undefined);
  const layouts = mkdtempSync(join(tmpdir(), 'cri-img-'));
  try {
    pauseLayout(join(layouts, 'pause'));
    push(join(layouts, 'pause'), 'pause:tsrun-cri');
    writeLayout(join(layouts, 'busybox'), { layers: [buildLayer(busyboxFiles())] });
    push(join(layouts, 'busybox'), 'library/busybox:tsrun-cri');
  } finally {
    rmSync(layouts, { recursive: true, force: true });
  }

  // The volume a Bidirectional mount needs: a shared mount on the host.
  execFileSync('mount', ['-t', 'tmpfs', 'tsrun-cri-prop', propDir]);
  execFileSync('mount', ['--make-shared', propDir]);

  writeFileSync(join(base, 'config.toml'), containerdConfig());
  containerd = spawn(inNetns[0], [...inNetns.slice(1), 'containerd', '--config', join(base, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  containerd.stderr!.on('data', (d) => (containerdLog += d));
  await waitFor('containerd', () => existsSync(sock) || undefined);
  runtime = client('RuntimeService');
  images = client('ImageService');
  await waitFor('the CRI plugin', async () => (await runtime('Version', { version: 'v1' }).catch(() => undefined)) as object | undefined);
}, 180_000);

afterAll(async () => {
  if (!haveAll) return;
  // Pods a failed test left: stopped and removed through the CRI, so containerd runs CNI DEL
  // and unpins their netns (/run/netns/cni-*) and its result cache (/var/lib/cni/results).
  if (runtime) {
    const left = await runtime('ListPodSandbox', {}).catch((e) => (console.log(`ListPodSandbox: ${e}`), { items: [] })) as { items?: { id: string }[] };
    for (const pod of left.items ?? []) await removePod(pod.id).catch((e) => console.log(`pod ${pod.id} left: ${e}`));
  }
  containerd?.kill('SIGTERM');
  if (containerd && containerd.exitCode === null) await new Promise((r) => containerd!.once('exit', r));
  if (process.env.TSRUN_CRI_LOG) writeFileSync(process.env.TSRUN_CRI_LOG, containerdLog);
  // Shims outlive containerd by design; this test's are the ones holding its socket path.
  spawnSync('pkill', ['-KILL', '-f', `containerd-shim-runc-v2 .*-address ${sock}`]);
  registry?.kill('SIGTERM');
  spawnSync('sh', ['-c', `grep -o ' ${base}[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]);
  spawnSync('ip', ['netns', 'delete', netns]);
  rmSync(base, { recursive: true, force: true });
});

const sandboxConfig = (name: string, privileged = false) => ({
  metadata: { name, uid: `uid-${name}`, namespace: 'tsrun-test', attempt: 0 },
  hostname: name,
  log_directory: join(logDir, name),
  linux: { security_context: { privileged } },
});

async function runPod(name: string, privileged = false, handler = 'tsrun') {
  const config = sandboxConfig(name, privileged);
  const { pod_sandbox_id: id } = await runtime('RunPodSandbox', { config, runtime_handler: handler });
  return { id, config };
}

async function removePod(id: string) {
  await runtime('StopPodSandbox', { pod_sandbox_id: id });
  await runtime('RemovePodSandbox', { pod_sandbox_id: id });
}

async function startContainer(pod: { id: string; config: object }, name: string, command: string[], extra: Record<string, unknown> = {}) {
  // As the kubelet asks for v1 pods: the container has its own pid namespace.
  const linux = { ...(extra.linux as object), security_context: { namespace_options: { pid: 'CONTAINER' }, ...(extra.linux as { security_context?: object })?.security_context } };
  const config = { metadata: { name, attempt: 0 }, image: { image: BUSYBOX }, command, log_path: `${name}.log`, ...extra, linux };
  const { container_id: id } = await runtime('CreateContainer', { pod_sandbox_id: pod.id, config, sandbox_config: pod.config });
  await runtime('StartContainer', { container_id: id });
  return id as string;
}

const status = async (id: string) => (await runtime('ContainerStatus', { container_id: id, verbose: false })).status;
const exited = (id: string) => waitFor(`container ${id} to exit`, async () => {
  const s = await status(id);
  return s.state === 'CONTAINER_EXITED' ? s : undefined;
});

/** The runtime's state record of a container in the shim's runtime root (tsrun's "phase" field proves tsrun ran it). */
function runtimeRecord(handler: string, id: string): { phase?: string; init_process_pid?: number; pid?: number } | undefined {
  const dir = join(rootOf(handler), 'k8s.io', id);
  return existsSync(join(dir, 'state.json')) ? JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) : undefined;
}

describe.skipIf(!haveAll).each(HANDLERS)('Kubernetes CRI (containerd 1.6, runtime handler "%s")', (handler) => {
  const runPodH = (name: string, privileged = false) => runPod(`${name}-${handler}`, privileged, handler);
  it('pulls the images through the mirror', async () => {
    const v = await runtime('Version', { version: 'v1' });
    expect(v.runtime_name).toBe('containerd');
    expect((await images('PullImage', { image: { image: BUSYBOX } })).image_ref).toMatch(/^sha256:/);
  });

  it('runs a pod: the sandbox is READY with an IP from the CNI bridge, and the handler runs its pause container', async () => {
    const pod = await runPodH('pod-basic');
    try {
      const s = (await runtime('PodSandboxStatus', { pod_sandbox_id: pod.id, verbose: false })).status;
      expect(s.state).toBe('SANDBOX_READY');
      expect(s.runtime_handler).toBe(handler);
      expect(s.network.ip).toMatch(new RegExp(`^${SUBNET.replace(/\./g, '\\.')}\\.\\d+$`));
      if (handler === 'tsrun') expect(runtimeRecord(handler, pod.id)).toMatchObject({ phase: expect.any(String) });

      // stdout and stderr land in the CRI log format; the exit code comes back.
      const id = await startContainer(pod, 'c-exit', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
      const done = await exited(id);
      expect(done.exit_code).toBe(3);
      expect(done.finished_at).toBeGreaterThan(0);
      const log = readFileSync(join(logDir, `pod-basic-${handler}`, 'c-exit.log'), 'utf8').trim().split('\n');
      expect(log).toHaveLength(2);
      expect(log).toEqual(expect.arrayContaining([
        expect.stringMatching(/^\d{4}-\d\d-\d\dT\S+Z stdout F out$/),
        expect.stringMatching(/^\d{4}-\d\d-\d\dT\S+Z stderr F err$/),
      ]));
      await runtime('RemoveContainer', { container_id: id });
    } finally {
      await removePod(pod.id);
    }
  });

  it('ExecSync returns stdout, stderr and the exit code; a memory limit reaches the cgroup and ContainerStats', async () => {
    const pod = await runPodH('pod-exec');
    try {
      const limit = 64 * 1024 * 1024;
      const id = await startContainer(pod, 'c-sleep', ['sleep', '1000'], { linux: { resources: { memory_limit_in_bytes: limit } } });
      expect((await status(id)).state).toBe('CONTAINER_RUNNING');
      const r = await runtime('ExecSync', { container_id: id, cmd: ['sh', '-c', 'echo hi; echo oops >&2; exit 4'], timeout: 10 });
      expect(Buffer.from(r.stdout).toString()).toBe('hi\n');
      expect(Buffer.from(r.stderr).toString()).toBe('oops\n');
      expect(r.exit_code).toBe(4);
      const inside = await runtime('ExecSync', { container_id: id, cmd: ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/memory.max'], timeout: 10 });
      expect(Buffer.from(inside.stdout).toString()).toContain(String(limit));
      const stats = (await runtime('ContainerStats', { container_id: id })).stats;
      expect(stats.cpu.usage_core_nano_seconds.value).toBeGreaterThan(0);
      const used = stats.memory.working_set_bytes.value;
      expect(used).toBeGreaterThan(0);
      expect(used + stats.memory.available_bytes.value).toBe(limit);
      await runtime('StopContainer', { container_id: id, timeout: 2 });
      expect((await exited(id)).exit_code).toBe(137);
      await runtime('RemoveContainer', { container_id: id });
      expect(existsSync(join(rootOf(handler), 'k8s.io', id))).toBe(false);
    } finally {
      await removePod(pod.id);
    }
  });

  it('mountPropagation Bidirectional: a mount made in the container reaches the host, one made on the host reaches the container', async () => {
    const pod = await runPodH('pod-prop', true);
    try {
      const id = await startContainer(pod, 'c-prop', ['sleep', '1000'], {
        mounts: [{ container_path: '/prop', host_path: propDir, propagation: 'PROPAGATION_BIDIRECTIONAL' }],
        linux: { security_context: { privileged: true } },
      });
      const m = await runtime('ExecSync', { container_id: id, cmd: ['sh', '-c', 'mkdir -p /prop/inner && mount -t tmpfs from-container /prop/inner && echo hi > /prop/inner/file'], timeout: 10 });
      expect(Buffer.from(m.stderr).toString()).toBe('');
      expect(m.exit_code).toBe(0);
      expect(readFileSync(join(propDir, 'inner/file'), 'utf8')).toBe('hi\n');
      mkdirSync(join(propDir, 'outer'), { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', 'from-host', join(propDir, 'outer')]);
      const seen = await runtime('ExecSync', { container_id: id, cmd: ['grep', '-c', 'from-host', '/proc/self/mounts'], timeout: 10 });
      expect(Buffer.from(seen.stdout).toString().trim()).toBe('1');
      await runtime('StopContainer', { container_id: id, timeout: 0 });
      await runtime('RemoveContainer', { container_id: id });
    } finally {
      spawnSync('umount', [join(propDir, 'inner')]);
      spawnSync('umount', [join(propDir, 'outer')]);
      await removePod(pod.id);
    }
  });

  it('a container in the pod\'s pid namespace: when its main process exits, what it left running is killed and its log closes', async () => {
    const pod = await runPodH('pod-shared-pid');
    try {
      const logsBefore = (containerdLog.match(/Failed to pipe/g) ?? []).length;
      // Like nginx or httpd workers: children that hold stdout and outlive the main process.
      const id = await startContainer(pod, 'c-workers', ['sh', '-c', '(trap "" TERM; while true; do echo worker; sleep 0.1; done) & sleep 0.5; echo main done'], {
        linux: { security_context: { namespace_options: { pid: 'POD' } } },
      });
      const done = await exited(id);
      expect(done.exit_code).toBe(0);
      // The shim kills the rest (runtime kill --all) and the log pipe reaches EOF.
      const log = join(logDir, `pod-shared-pid-${handler}`, 'c-workers.log');
      await waitFor('the workers to be killed', () => {
        const before = readFileSync(log, 'utf8').length;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
        return readFileSync(log, 'utf8').length === before || undefined;
      }, 10_000);
      await new Promise((r) => setTimeout(r, 500));
      expect((containerdLog.match(/Failed to pipe/g) ?? []).length).toBe(logsBefore);
      expect(readFileSync(log, 'utf8')).toMatch(/stdout F main done/);
      await runtime('RemoveContainer', { container_id: id });
    } finally {
      await removePod(pod.id);
    }
  });

  it('StopPodSandbox + RemovePodSandbox leave no runtime state, cgroup, netns, IP allocation or process behind', async () => {
    const pod = await runPodH('pod-clean');
    const id = await startContainer(pod, 'c-clean', ['sleep', '1000']);
    const pids = [runtimeRecord(handler, pod.id), runtimeRecord(handler, id)].map((r) => r?.init_process_pid ?? r?.pid ?? 0);
    expect(pids.every((p) => p > 0)).toBe(true);
    await removePod(pod.id);
    expect(readdirSync(join(rootOf(handler), 'k8s.io'))).toEqual([]);
    for (const p of pids) expect(existsSync(`/proc/${p}`)).toBe(false);
    const cgroups = spawnSync('sh', ['-c', `ls -d /sys/fs/cgroup/*/k8s.io/${pod.id} /sys/fs/cgroup/*/k8s.io/${id} /sys/fs/cgroup/k8s.io/${id} 2>/dev/null`], { encoding: 'utf8' }).stdout;
    expect(cgroups).toBe('');
    expect(readdirSync(join(base, 'ipam/tsrun-cri')).filter((f) => f.startsWith(SUBNET))).toEqual([]);
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toMatch(new RegExp(`${base}/state/.*(${pod.id}|${id})`));
  });
});
