// A bridge container's /etc/hosts and /etc/resolv.conf (src/network/etcFiles.ts).
import { describe, expect, it } from 'vitest';
import { containerResolvConf, hostsFile } from '../../src/network/etcFiles.js';

describe('container /etc files', () => {
  it('hosts: localhost, the IPv6 names, then the address with the hostname', () => {
    const text = hostsFile('abc123', '172.17.0.2');
    expect(text.split('\n')[0]).toBe('127.0.0.1\tlocalhost');
    expect(text.endsWith('172.17.0.2\tabc123\n')).toBe(true);
    expect(hostsFile('abc123')).not.toContain('abc123');
    // --add-host entries after the defaults, the container's own line last (as Docker's).
    expect(hostsFile('abc123', '172.17.0.2', ['other:10.9.9.9', 'db.local:10.0.0.5']).split('\n').slice(-4)).toEqual(['10.9.9.9\tother', '10.0.0.5\tdb.local', '172.17.0.2\tabc123', '']);
  });

  it('resolv.conf: the host loopback nameservers dropped, the rest kept', () => {
    expect(containerResolvConf('search example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n'))
      .toBe('search example.org\nnameserver 10.0.0.2\noptions edns0\n');
  });

  it('resolv.conf with only a local stub resolver (or none): Docker\'s fallback nameservers', () => {
    expect(containerResolvConf('nameserver 127.0.0.53\nnameserver ::1\n')).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
    expect(containerResolvConf('')).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });
});
