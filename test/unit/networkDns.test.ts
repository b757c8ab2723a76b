// The names of a user network (src/network/networkDns.ts) and the resolv.conf
// of its containers (src/network/etcFiles.ts).
import { describe, expect, it } from 'vitest';
import { userNetworkResolvConf } from '../../src/network/etcFiles.js';
import { NetworkNames, ScopedNames } from '../../src/network/networkDns.js';

describe('NetworkNames', () => {
  it('names, aliases and short IDs, case-insensitive with or without the trailing dot; every replica of a shared alias; PTR names the first', () => {
    const n = new NetworkNames();
    n.set('a'.repeat(64), ['web', 'site', 'aaaaaaaaaaaa'], '10.0.0.2');
    n.set('b'.repeat(64), ['web2', 'site', 'bbbbbbbbbbbb'], '10.0.0.3');
    expect(n.addresses('WEB.')).toEqual(['10.0.0.2']);
    expect(n.addresses('site')?.sort()).toEqual(['10.0.0.2', '10.0.0.3']);
    expect(n.addresses('bbbbbbbbbbbb')).toEqual(['10.0.0.3']);
    expect(n.addresses('nope')).toBeUndefined();
    expect(n.nameOf('10.0.0.3')).toBe('web2');
    n.delete('b'.repeat(64));
    expect(n.addresses('site')).toEqual(['10.0.0.2']);
    expect(n.nameOf('10.0.0.3')).toBeUndefined();
    expect(n.size).toBe(1);
  });
});

describe('ScopedNames', () => {
  it('a network\'s own names first; then, for a client on other networks too, the names of those; nothing of networks the client is not on', () => {
    const front = new NetworkNames();
    const back = new NetworkNames();
    const other = new NetworkNames();
    const app = 'a'.repeat(64), db = 'd'.repeat(64), x = 'e'.repeat(64);
    front.set(app, ['app'], '10.1.0.2');
    back.set(app, ['app', 'api'], '10.2.0.2');
    back.set(db, ['db'], '10.2.0.3');
    other.set(x, ['secret'], '10.3.0.2');
    const all = () => [front, back, other];
    const viaFront = new ScopedNames(front, all);
    expect(viaFront.addresses('app', '10.1.0.2')).toEqual(['10.1.0.2']);
    expect(viaFront.addresses('db', '10.1.0.2')).toEqual(['10.2.0.3']);
    expect(viaFront.nameOf('10.2.0.3', '10.1.0.2')).toBe('db');
    expect(viaFront.addresses('secret', '10.1.0.2')).toBeUndefined();
    // A client the network does not know (or none given): its own names only.
    expect(viaFront.addresses('db', '10.1.0.9')).toBeUndefined();
    expect(viaFront.addresses('db')).toBeUndefined();
    expect(new ScopedNames(back, all).addresses('app', '10.2.0.3')).toEqual(['10.2.0.2']);
  });
});

describe('userNetworkResolvConf', () => {
  it('the gateway as the only nameserver, the host\'s search and options kept', () => {
    expect(userNetworkResolvConf('# x\nnameserver 127.0.0.53\nsearch example.com\noptions edns0 trust-ad\n', '10.86.0.1'))
      .toBe('nameserver 10.86.0.1\nsearch example.com\noptions edns0 trust-ad\n');
    expect(userNetworkResolvConf('', '10.86.0.1')).toBe('nameserver 10.86.0.1\n');
  });
});
