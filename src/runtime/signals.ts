import { SIGNALS } from '../linux/constants.js';
import { RuntimeError } from '../common/errors.js';

/** Accepts 15, TERM, SIGTERM (any case), like runc's kill. */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 64) return n;
  } else {
    const upper = text.toUpperCase();
    const sig = SIGNALS[upper.startsWith('SIG') ? upper : `SIG${upper}`];
    if (sig) return sig;
    const rt = /^SIGRTM(IN|AX)([+-]\d+)?$/.exec(upper.startsWith('SIG') ? upper : `SIG${upper}`);
    if (rt) {
      const n = (rt[1] === 'IN' ? 34 : 64) + Number(rt[2] ?? 0);
      if (n >= 34 && n <= 64) return n;
    }
  }
  throw new RuntimeError({ step: 'parse the signal', detail: `unknown signal ${JSON.stringify(text)}` });
}
