// The built addon exports exactly the functions the TypeScript interface
// `Addon` (src/native/addon.ts) declares: a function added, renamed or removed
// on one side only fails here instead of at its first call. Needs the addon
// built (npm run build:addon).
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { addon } from '../../src/native/addon.js';

const ADDON_SOURCE = new URL('../../src/native/addon.ts', import.meta.url);

function interfaceMembers(file: URL, name: string): string[] {
  const source = ts.createSourceFile(file.pathname, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const declaration = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
  if (!declaration) throw new Error(`no interface ${name} in ${file.pathname}`);
  return declaration.members.map((m) => {
    if (!m.name || !ts.isIdentifier(m.name)) throw new Error(`interface ${name}: a member without a plain name`);
    return m.name.text;
  });
}

describe('addon exports', () => {
  it('are exactly the functions of the Addon interface', () => {
    const declared = interfaceMembers(ADDON_SOURCE, 'Addon');
    const exported = Object.keys(addon());
    expect([...exported].sort()).toEqual([...declared].sort());
    for (const name of exported) expect(typeof (addon() as unknown as Record<string, unknown>)[name], name).toBe('function');
  });
});
