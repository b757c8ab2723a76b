import type { GlobalOptions } from '../globals.js';
import { RuntimeError } from '../../common/errors.js';

export default function notImplemented(_args: string[], g: GlobalOptions & { verb?: string }): number {
  throw new RuntimeError({ step: `${g.verb ?? 'this command'}`, detail: 'not implemented yet in this version of tsrun' });
}
