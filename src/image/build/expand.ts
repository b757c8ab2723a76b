// Variable expansion in a Dockerfile word, as Docker's shell lexer does it for
// the instructions that expand ($VAR, ${VAR}, ${VAR:-word}, ${VAR:+word},
// `\$` for a literal dollar). A stand-in for the parser's substitute.ts until
// the builder uses it.
import { RuntimeError } from '../../common/errors.js';

export function expandWord(word: string, vars: Map<string, string>, line: number): string {
  let out = '';
  for (let i = 0; i < word.length; i++) {
    const ch = word[i];
    if (ch === '\\' && word[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    if (ch !== '$') {
      out += ch;
      continue;
    }
    if (word[i + 1] === '{') {
      const end = word.indexOf('}', i + 2);
      if (end < 0) throw new RuntimeError({ kind: 'invalid-argument', step: `failed to process "${word}": missing '}' (line ${line})` });
      const body = word.slice(i + 2, end);
      i = end;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::([-+])(.*))?$/s.exec(body);
      if (!m) throw new RuntimeError({ kind: 'invalid-argument', step: `failed to process "${word}": unsupported modifier in \${${body}} (line ${line})` });
      const value = vars.get(m[1]);
      if (m[2] === '-') out += value ? value : expandWord(m[3], vars, line);
      else if (m[2] === '+') out += value ? expandWord(m[3], vars, line) : '';
      else out += value ?? '';
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(word.slice(i + 1));
    if (!m) {
      out += '$';
      continue;
    }
    out += vars.get(m[0]) ?? '';
    i += m[0].length;
  }
  return out;
}
