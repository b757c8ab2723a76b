// tsd's outbound masquerade as data (src/network/masquerade.ts): one rule per
// network.
import { describe, expect, it } from 'vitest';
import { masqueradeRule } from '../../src/network/masquerade.js';

describe('masquerade rules', () => {
  it('one rule per network: its subnet, leaving by any interface but its bridge, named in a comment', () => {
    expect(masqueradeRule('bridge', '172.17.0.0/16', 'tsd0')).toEqual(['-s', '172.17.0.0/16', '!', '-o', 'tsd0', '-m', 'comment', '--comment', 'tsd network bridge', '-j', 'MASQUERADE']);
  });
});
