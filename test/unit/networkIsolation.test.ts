// The isolation rules of a bridge, as data (src/network/isolation.ts).
import { describe, expect, it } from 'vitest';
import { forwardRules, isolationRules, STAGE1, STAGE2 } from '../../src/network/isolation.js';

describe('isolationRules', () => {
  it('stage 1 sends what leaves the bridge for elsewhere to stage 2, which drops what goes out through it', () => {
    expect(isolationRules('br-0123456789ab')).toEqual([
      [STAGE1, ['-i', 'br-0123456789ab', '!', '-o', 'br-0123456789ab', '-j', STAGE2]],
      [STAGE2, ['-o', 'br-0123456789ab', '-j', 'DROP']],
    ]);
  });
});

describe('forwardRules', () => {
  it('what leaves the bridge is accepted, and what comes back to it on a connection it made', () => {
    expect(forwardRules('tsd0')).toEqual([
      ['-o', 'tsd0', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
      ['-i', 'tsd0', '-j', 'ACCEPT'],
    ]);
  });
});
