// process.terminal: a pty from the container's devpts, sent to --console-socket
// with SCM_RIGHTS (what engines use), or attached to the caller's terminal by `run`.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeBundle } from '../helpers/bundle.js';
import { startConsoleReceiver } from '../helpers/consoleReceiver.js';
import { guardHost, stateDirs } from '../helpers/leftovers.js';
import { TSRUN, tsrunSync, uniqueId } from '../helpers/tsrun.js';

let root: string;
guardHost((r) => (root = r), { deleteLeftovers: true, checkStateDirs: false });

const SCRIPT = 'tty; stty size; ls -l /dev/console | cut -c1; read line; echo "got $line"';

describe('terminal', () => {
  it('sends the pty master to --console-socket; the container has it as its controlling tty', async () => {
    const b = makeBundle((c) => {
      c.process!.terminal = true;
      c.process!.consoleSize = { height: 30, width: 100 };
      c.process!.args = ['sh', '-c', SCRIPT];
    });
    const sock = join(b.dir, 'console.sock');
    const receiver = await startConsoleReceiver(sock, 'typed\n');
    const id = uniqueId();
    try {
      const c = tsrunSync(['--root', root, 'create', '--console-socket', sock, '--bundle', b.dir, id]);
      expect(c.stderr).toBe('');
      expect(c.code).toBe(0);
      expect(tsrunSync(['--root', root, 'start', id]).code).toBe(0);
      const result = await receiver.result;
      expect(result.name).toBe('/dev/ptmx');
      const lines = result.output.split(/\r?\n/);
      expect(lines).toContain('/dev/pts/0');
      expect(lines).toContain('30 100');
      expect(lines).toContain('c'); // /dev/console is the pty (a character device)
      expect(lines).toContain('got typed');
    } finally {
      tsrunSync(['--root', root, 'delete', '--force', id]);
      b.cleanup();
    }
  });

  it('requires --console-socket for create with a terminal, and says so', () => {
    const b = makeBundle((c) => (c.process!.terminal = true));
    try {
      const r = tsrunSync(['--root', root, 'create', '--bundle', b.dir, uniqueId()]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/\(config \.process\.terminal\): process\.terminal is true: --console-socket is required/);
      expect(stateDirs(root)).toEqual([]);
    } finally {
      b.cleanup();
    }
  });

  it('attaches the caller\'s terminal in run (under script(1))', () => {
    const b = makeBundle((c) => {
      c.process!.terminal = true;
      c.process!.args = ['sh', '-c', 'tty; read x; echo "in: $x"; exit 4'];
    });
    try {
      const r = spawnSync('script', ['-qec', `${TSRUN} --root ${root} run --bundle ${b.dir} ${uniqueId()}`, '/dev/null'], {
        input: 'abcde\n', encoding: 'utf8', timeout: 20_000,
      });
      expect(r.status).toBe(4);
      expect(r.stdout).toMatch(/\/dev\/pts\/0\r*\n/);
      expect(r.stdout).toMatch(/in: abcde/);
      expect(stateDirs(root)).toEqual([]);
    } finally {
      b.cleanup();
    }
  });
});
