import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { chainIds } from '../../src/image/unpack/unpacker.js';

describe('chain IDs', () => {
  it('follow the OCI definition', () => {
    const d = [`sha256:${'1'.repeat(64)}`, `sha256:${'2'.repeat(64)}`];
    const c = chainIds(d);
    expect(c[0]).toBe(d[0]);
    expect(c[1]).toBe('sha256:' + createHash('sha256').update(`${d[0]} ${d[1]}`).digest('hex'));
    // A fixed value, computed once with: printf '%s %s' sha256:111… sha256:222… | sha256sum
    expect(c[1]).toBe('sha256:9932074217c35353d2e03a3f5a86549f7c67bfeb0ba53e23d69f4d4c8f7958f5');
    expect(chainIds([])).toEqual([]);
  });
});
