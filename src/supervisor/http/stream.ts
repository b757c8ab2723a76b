// Docker's stream framing. Without a TTY, stdout and stderr share one stream:
// each chunk has an 8-byte header [stream, 0, 0, 0, length as u32 big-endian]
// (1 stdout, 2 stderr). With a TTY the bytes go as they are.
/** API 1.41 names both kinds of stream so (1.42 added a multiplexed type). */
export const RAW_STREAM = 'application/vnd.docker.raw-stream';

export function frame(stream: 1 | 2, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(data.length, 4);
  return Buffer.concat([head, data]);
}

/** How output is written for a container with or without a TTY. */
export const framer = (tty: boolean) => (stream: 1 | 2, data: Buffer): Buffer => (tty ? data : frame(stream, data));
