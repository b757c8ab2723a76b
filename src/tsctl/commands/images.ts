import { parseArgs, flagBool, flagString } from '../../common/argv.js';
import { checkFormat, humanBytes, table, type TsctlGlobals } from '../context.js';

export default async function imagesCommand(args: string[], g: TsctlGlobals): Promise<number> {
  const p = parseArgs(args, [{ name: 'format', kind: 'string' }, { name: 'quiet', kind: 'bool', alias: ['q'] }]);
  const format = checkFormat(flagString(p, 'format'));
  const { ImageStore } = await import('../../image/imageStore.js');
  const { ContentStore } = await import('../../image/content/store.js');
  const { familiarName, parseReference } = await import('../../image/reference.js');
  const store = new ContentStore(g.root);
  const rows = new ImageStore(g.root).list().map((img) => {
    let created = '';
    let size = 0;
    try {
      const config = store.readJson<{ created?: string }>(img.config);
      created = config.created ?? '';
      const manifest = store.readJson<{ layers: Array<{ size: number }>; config: { size: number } }>(img.manifest.digest);
      size = manifest.layers.reduce((a, l) => a + l.size, manifest.config.size);
    } catch { /* content missing: shown with what is known */ }
    const ref = parseReference(img.name);
    const repository = familiarName(`${ref.registry}/${ref.repository}`);
    const tag = ref.digest || !ref.tag ? '<none>' : ref.tag;
    return { name: img.name, repository, tag, id: img.config, digest: img.target.digest, created, size };
  });
  if (format === 'json') process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else if (flagBool(p, 'quiet')) process.stdout.write(rows.map((r) => r.id.slice(7, 19) + '\n').join(''));
  else process.stdout.write(table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows.map((r) => [r.repository, r.tag, r.id.slice(7, 19), r.created, humanBytes(r.size)])));
  return 0;
}
