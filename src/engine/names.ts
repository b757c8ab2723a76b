// Container names as Docker has them: `/name`, unique on a daemon, and when a
// client gives none, an adjective and a name joined by `_` (our own short
// lists: people who worked on operating systems and containers).
import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'agile', 'bold', 'brave', 'calm', 'clever', 'cool', 'crisp', 'eager', 'fair', 'fond', 'gentle', 'happy', 'keen',
  'kind', 'lucid', 'merry', 'modest', 'nimble', 'patient', 'quiet', 'quick', 'sharp', 'steady', 'sunny', 'tender',
  'tidy', 'vivid', 'warm', 'wise', 'witty', 'zealous', 'zen',
];

const NAMES = [
  'allen', 'babbage', 'backus', 'bell', 'cerf', 'corbato', 'dijkstra', 'engelbart', 'hamilton', 'hopper', 'kahn',
  'kay', 'kernighan', 'knuth', 'lamport', 'liskov', 'lovelace', 'mccarthy', 'metcalfe', 'perlman', 'pike', 'ritchie',
  'shannon', 'stonebraker', 'tanenbaum', 'thompson', 'torvalds', 'turing', 'wilkes', 'wirth', 'wozniak', 'zuse',
];

/** Docker's rule for a name a client gives (the leading `/` optional). */
export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** A generated name that `taken` does not hold (a number is added when the pair is used). */
export function generateName(taken: (name: string) => boolean): string {
  for (let attempt = 0; ; attempt++) {
    const base = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NAMES[randomInt(NAMES.length)]}`;
    const name = attempt < 10 ? base : `${base}${randomInt(1000)}`;
    if (!taken(name)) return name;
  }
}
