import { describe, expect, it } from 'vitest';
import { validateContainerId } from '../../src/runtime/containerId.js';

describe('container ids', () => {
  it('follow runc\'s rule and refuse path tricks', () => {
    expect(validateContainerId('my_ctr-1.2+x')).toBe('my_ctr-1.2+x');
    for (const bad of ['', '..', '.', 'a/b', '../etc', 'a b', 'x\n']) expect(() => validateContainerId(bad)).toThrow(/container id/);
  });
});
