// Finding the bridge plugin's masquerade rules of one container in
// `iptables -t nat -S POSTROUTING` (src/network/masquerade.ts).
import { describe, expect, it } from 'vitest';
import { masqueradeRulesOf, ruleWords } from '../../src/network/masquerade.js';

const ID = '9024420b65bb068845519f8407d4b9451f464c57ed84a308cb78da431d349caf';
const OTHER = 'a'.repeat(64);
const TEXT = `-P POSTROUTING ACCEPT
-A POSTROUTING -s 172.17.0.2/32 -m comment --comment "name: \\"bridge\\" id: \\"${ID}\\"" -j CNI-1e5f4135be47686a3fc655a3
-A POSTROUTING -s 172.17.0.3/32 -m comment --comment "name: \\"bridge\\" id: \\"${OTHER}\\"" -j CNI-2222222222222222222222aa
-A POSTROUTING -s 10.0.0.0/8 -j MASQUERADE
`;

describe('masquerade rules', () => {
  it('iptables -S words: quotes and backslash escapes', () => {
    expect(ruleWords('-A X -m comment --comment "name: \\"b\\" id: \\"1\\"" -j Y')).toEqual(['-A', 'X', '-m', 'comment', '--comment', 'name: "b" id: "1"', '-j', 'Y']);
  });

  it('the container\'s rule (as -D arguments) and its chain; other containers\' and foreign rules untouched', () => {
    expect(masqueradeRulesOf(TEXT, 'bridge', ID)).toEqual({
      rules: [['-s', '172.17.0.2/32', '-m', 'comment', '--comment', `name: "bridge" id: "${ID}"`, '-j', 'CNI-1e5f4135be47686a3fc655a3']],
      chains: ['CNI-1e5f4135be47686a3fc655a3'],
    });
    expect(masqueradeRulesOf(TEXT, 'other-net', ID)).toEqual({ rules: [], chains: [] });
  });
});
