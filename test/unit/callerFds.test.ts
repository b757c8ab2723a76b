import { describe, expect, it } from 'vitest';
import { callerFdsFrom, listenFdCount } from '../../src/runtime/callerFds.js';

describe('caller fds', () => {
  it('reads the front binary\'s record of fd:dev:ino', () => {
    expect(callerFdsFrom('3:10:20,4:10:21')).toEqual([{ fd: 3, dev: 10n, ino: 20n }, { fd: 4, dev: 10n, ino: 21n }]);
    expect(callerFdsFrom('')).toEqual([]);
  });

  it('takes the fds open now when there is no record, or a malformed one', () => {
    for (const recorded of [undefined, 'garbage']) {
      const fds = callerFdsFrom(recorded).map((c) => c.fd);
      expect(fds.every((fd) => fd > 2)).toBe(true);
    }
  });

  it('counts LISTEN_FDS only when LISTEN_PID is ours', () => {
    expect(listenFdCount('2', '42', 42)).toBe(2);
    expect(listenFdCount('2', '1', 42)).toBe(0);
    expect(listenFdCount(undefined, '42', 42)).toBe(0);
    expect(listenFdCount('-1', '42', 42)).toBe(0);
    expect(listenFdCount('x', '42', 42)).toBe(0);
  });
});
