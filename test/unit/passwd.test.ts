import { describe, expect, it } from 'vitest';
import { parseGroup, parsePasswd } from '../../src/common/passwd.js';

describe('passwd and group records', () => {
  it('keeps complete lines, with their fields as written', () => {
    const text = 'root:x:0:0:root:/root:/bin/sh\n# short:x:1\n\napp:x:00100:101::/home/app:/bin/false\n';
    expect(parsePasswd(text)).toEqual([
      { name: 'root', uid: '0', gid: '0', home: '/root' },
      { name: 'app', uid: '00100', gid: '101', home: '/home/app' },
    ]);
  });

  it('splits group members', () => {
    expect(parseGroup('wheel:x:10:root,app\nempty:x:20:\nbroken:x\n')).toEqual([
      { name: 'wheel', gid: '10', members: ['root', 'app'] },
      { name: 'empty', gid: '20', members: [''] },
    ]);
  });
});
