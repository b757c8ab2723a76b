// Config fields are named to users as JSON pointers written with dots, the way
// runc users read them: /process/args/0 -> .process.args[0].
export function pointerToPath(pointer: string): string {
  if (pointer === '' || pointer === '/') return '.';
  return pointer
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : /^[A-Za-z_][\w]*$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`))
    .join('');
}
