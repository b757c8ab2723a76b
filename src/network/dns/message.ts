// DNS messages (RFC 1035) as far as a network's embedded name server needs
// them: a query's header and questions in, an answer with A/PTR records out.
// Pure functions over Buffers, so the wire format is unit-tested as data.
// Anything malformed is refused with the offset where it broke; a server
// answers such a packet with FORMERR or drops it, never crashes.
import { RuntimeError } from '../../common/errors.js';

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, OPT: 41, ANY: 255 } as const;
export const CLASS_IN = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const OPCODE_QUERY = 0;
const HEADER = 12;
const MAX_LABEL = 63;
const MAX_NAME = 255;
/** What fits a UDP answer without EDNS (RFC 1035 4.2.1); larger is truncated with TC set. */
export const UDP_LIMIT = 512;

export interface Question {
  /** Lower case, without the trailing dot: "web", "4.0.17.172.in-addr.arpa". */
  name: string;
  type: number;
  class: number;
}

export interface Query {
  id: number;
  /** The header's second word as received (RD is echoed in the answer). */
  flags: number;
  opcode: number;
  questions: Question[];
}

export interface ResourceRecord {
  name: string;
  type: number;
  ttl: number;
  /** RDATA: 4 bytes for A, an encoded name for PTR. */
  data: Buffer;
}

function malformed(what: string, offset: number): RuntimeError {
  return new RuntimeError({ kind: 'invalid-argument', step: 'read a DNS message', detail: `${what} at byte ${offset}` });
}

/** A name at `offset`, following compression pointers (each must point backwards, so no loop). */
function readName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let at = offset;
  let next = -1;
  let length = 0;
  for (;;) {
    if (at >= buf.length) throw malformed('name runs past the end', at);
    const len = buf[at];
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= buf.length) throw malformed('truncated compression pointer', at);
      const target = ((len & 0x3f) << 8) | buf[at + 1];
      if (target >= at) throw malformed('compression pointer that does not point back', at);
      if (next < 0) next = at + 2;
      at = target;
      continue;
    }
    if (len & 0xc0) throw malformed('reserved label type', at);
    if (len === 0) {
      if (next < 0) next = at + 1;
      break;
    }
    if (at + 1 + len > buf.length) throw malformed('label runs past the end', at);
    length += len + 1;
    if (length > MAX_NAME) throw malformed('name longer than 255 bytes', offset);
    labels.push(buf.toString('latin1', at + 1, at + 1 + len).toLowerCase());
    at += 1 + len;
  }
  return { name: labels.join('.'), next };
}

export function encodeName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.replace(/\.$/, '').split('.').filter(Boolean)) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length > MAX_LABEL) throw new RuntimeError({ kind: 'invalid-argument', step: 'encode a DNS name', detail: `label "${label}" is longer than 63 bytes` });
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > MAX_NAME) throw new RuntimeError({ kind: 'invalid-argument', step: 'encode a DNS name', detail: `"${name}" is longer than 255 bytes` });
  return out;
}

/** A query's header and questions; answer, authority and additional sections are not read. */
export function parseQuery(buf: Buffer): Query {
  if (buf.length < HEADER) throw malformed('message shorter than its 12-byte header', 0);
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & 0x8000) throw malformed('a response where a query was expected', 2);
  const qdcount = buf.readUInt16BE(4);
  const questions: Question[] = [];
  let at = HEADER;
  for (let i = 0; i < qdcount; i++) {
    const { name, next } = readName(buf, at);
    if (next + 4 > buf.length) throw malformed('question without type and class', next);
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    at = next + 4;
  }
  return { id, flags, opcode: (flags >> 11) & 0xf, questions };
}

export function isStandardQuery(q: Query): boolean {
  return q.opcode === OPCODE_QUERY && q.questions.length === 1;
}

export function encodeQuery(id: number, name: string, type: number, recursionDesired = true): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(recursionDesired ? 0x0100 : 0, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}

export interface Answer {
  rcode: number;
  records: ResourceRecord[];
  /** Authoritative for the names the network owns (Docker's server sets AA too). */
  authoritative: boolean;
}

/**
 * The answer to `query`: its id, RD echoed, RA set (names we do not own are
 * forwarded), the question repeated and the records. Over `limit` bytes the
 * records that do not fit are left out and TC is set, so the client retries
 * over TCP.
 */
export function encodeAnswer(query: Query, answer: Answer, limit = Infinity): Buffer {
  const question = query.questions[0];
  const questionBytes = question
    ? Buffer.concat([encodeName(question.name), u16(question.type), u16(question.class)])
    : Buffer.alloc(0);
  const records: Buffer[] = [];
  let size = HEADER + questionBytes.length;
  let truncated = false;
  for (const r of answer.records) {
    // The question's name sits at byte 12: a compression pointer to it saves the name per record.
    const name = question && r.name === question.name ? Buffer.from([0xc0, HEADER]) : encodeName(r.name);
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(r.type, 0);
    fixed.writeUInt16BE(CLASS_IN, 2);
    fixed.writeUInt32BE(r.ttl, 4);
    fixed.writeUInt16BE(r.data.length, 8);
    const bytes = Buffer.concat([name, fixed, r.data]);
    if (size + bytes.length > limit) {
      truncated = true;
      break;
    }
    records.push(bytes);
    size += bytes.length;
  }
  const header = Buffer.alloc(HEADER);
  header.writeUInt16BE(query.id, 0);
  const flags = 0x8000 | (query.opcode << 11) | (answer.authoritative ? 0x0400 : 0) | (truncated ? 0x0200 : 0)
    | (query.flags & 0x0100) | 0x0080 | (answer.rcode & 0xf);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(question ? 1 : 0, 4);
  header.writeUInt16BE(records.length, 6);
  return Buffer.concat([header, questionBytes, ...records]);
}

/** An error answer (FORMERR, SERVFAIL, NOTIMP) for a query that may not even have parsed. */
export function encodeError(id: number, rcode: number, query?: Query): Buffer {
  if (query) return encodeAnswer(query, { rcode, records: [], authoritative: false });
  const header = Buffer.alloc(HEADER);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x8080 | rcode, 2);
  return header;
}

export function aRecord(name: string, ipv4: string, ttl: number): ResourceRecord {
  const octets = ipv4.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new RuntimeError({ kind: 'invalid-argument', step: 'encode a DNS A record', detail: `"${ipv4}" is not an IPv4 address` });
  }
  return { name, type: TYPE.A, ttl, data: Buffer.from(octets) };
}

export function ptrRecord(name: string, target: string, ttl: number): ResourceRecord {
  return { name, type: TYPE.PTR, ttl, data: encodeName(target) };
}

/** "4.0.17.172.in-addr.arpa" → "172.17.0.4"; undefined for anything else. */
export function reverseNameToIPv4(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (!m) return undefined;
  const octets = [m[4], m[3], m[2], m[1]].map(Number);
  return octets.every((o) => o <= 255) ? octets.join('.') : undefined;
}

/** The records of a parsed answer (for clients and tests): name, type, and A/PTR data decoded. */
export function parseAnswer(buf: Buffer): { id: number; rcode: number; truncated: boolean; records: { name: string; type: number; ttl: number; value: string }[] } {
  if (buf.length < HEADER) throw malformed('message shorter than its 12-byte header', 0);
  const flags = buf.readUInt16BE(2);
  const qdcount = buf.readUInt16BE(4);
  const ancount = buf.readUInt16BE(6);
  let at = HEADER;
  for (let i = 0; i < qdcount; i++) at = readName(buf, at).next + 4;
  const records = [];
  for (let i = 0; i < ancount; i++) {
    const { name, next } = readName(buf, at);
    if (next + 10 > buf.length) throw malformed('record without its fixed fields', next);
    const type = buf.readUInt16BE(next);
    const ttl = buf.readUInt32BE(next + 4);
    const len = buf.readUInt16BE(next + 8);
    const data = next + 10;
    if (data + len > buf.length) throw malformed('record data runs past the end', data);
    const value = type === TYPE.A && len === 4 ? [...buf.subarray(data, data + 4)].join('.')
      : type === TYPE.PTR ? readName(buf, data).name : buf.subarray(data, data + len).toString('hex');
    records.push({ name, type, ttl, value });
    at = data + len;
  }
  return { id: buf.readUInt16BE(0), rcode: flags & 0xf, truncated: (flags & 0x0200) !== 0, records };
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}
