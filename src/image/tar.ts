// A small, reproducible tar writer: POSIX ustar headers (IEEE Std 1003.1-2001 "pax" format, ustar Header Block)
// with a PAX extended header ('x') for names/link targets that do not fit in 100 bytes or are not ASCII, and for
// sizes beyond ustar's 8 GiB. Ownership is always 0:0 with empty user/group names and one fixed mtime, so the
// bytes depend only on paths, modes and contents. Written here (≈150 lines) rather than adding a dependency.
import { createReadStream } from 'node:fs';

export const BLOCK = 512;

export type TarEntry =
  | { type: 'dir'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; size: number; source: string | Buffer }
  | { type: 'symlink'; path: string; mode: number; target: string };

const USTAR_NAME_MAX = 100;
const USTAR_SIZE_MAX = 0o77777777777;

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** Writes `value` as zero-padded octal in `width - 1` digits plus a NUL, the ustar numeric field format. */
function writeOctal(buf: Buffer, offset: number, width: number, value: number): void {
  const digits = value.toString(8).padStart(width - 1, '0');
  if (digits.length > width - 1) throw new Error(`value ${value} does not fit a ${width}-byte tar field`);
  buf.write(digits, offset, width - 1, 'ascii');
  buf[offset + width - 1] = 0;
}

function header(
  name: string,
  typeflag: string,
  mode: number,
  size: number,
  mtime: number,
  linkname = '',
): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, USTAR_NAME_MAX, 'utf8');
  writeOctal(h, 100, 8, mode & 0o7777);
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, mtime);
  h.write('        ', 148, 8, 'ascii'); // checksum is computed with its own field as spaces
  h.write(typeflag, 156, 1, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 8, 'ascii'); // magic "ustar\0", version "00"
  writeOctal(h, 329, 8, 0); // devmajor
  writeOctal(h, 337, 8, 0); // devminor
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return h;
}

/** One PAX record: "<len> <key>=<value>\n" where <len> counts the whole record, itself included. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body, 'utf8');
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return `${len}${body}`;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

/** Header block(s) for one entry: a PAX 'x' header first when the entry needs it. */
export function entryHeader(entry: TarEntry, mtime: number): Buffer {
  const name = entry.type === 'dir' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
  const size = entry.type === 'file' ? entry.size : 0;
  const link = entry.type === 'symlink' ? entry.target : '';
  const records: string[] = [];
  if (Buffer.byteLength(name) > USTAR_NAME_MAX || !isAscii(name)) records.push(paxRecord('path', name));
  if (Buffer.byteLength(link) > USTAR_NAME_MAX || !isAscii(link)) records.push(paxRecord('linkpath', link));
  if (size > USTAR_SIZE_MAX) records.push(paxRecord('size', String(size)));
  const typeflag = entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0';
  const main = header(
    asciiPrefix(name),
    typeflag,
    entry.mode,
    size > USTAR_SIZE_MAX ? 0 : size,
    mtime,
    asciiPrefix(link),
  );
  if (records.length === 0) return main;
  const pax = Buffer.from(records.join(''), 'utf8');
  const paxName = asciiPrefix(`PaxHeaders/${name.replace(/\/$/, '').split('/').pop() ?? 'entry'}`);
  return Buffer.concat([header(paxName, 'x', 0o644, pax.length, mtime), pax, padding(pax.length), main]);
}

/** The ASCII-only, ≤100-byte stand-in written in the ustar field when the real value is in the PAX header. */
function asciiPrefix(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(0, USTAR_NAME_MAX);
}

/**
 * The tar stream of `entries`, in the order given, ending with two zero blocks. File contents are streamed from
 * disk and must have the size recorded when the directory was walked (a file changing mid-build is an error).
 */
export async function* tarStream(entries: TarEntry[], mtime: number): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    yield entryHeader(entry, mtime);
    if (entry.type !== 'file') continue;
    let seen = 0;
    if (Buffer.isBuffer(entry.source)) {
      seen = entry.source.length;
      yield entry.source;
    } else {
      for await (const chunk of createReadStream(entry.source)) {
        seen += (chunk as Buffer).length;
        if (seen > entry.size) break;
        yield chunk as Buffer;
      }
    }
    if (seen !== entry.size) {
      throw new Error(`${entry.path} changed while building: expected ${entry.size} bytes, read ${seen}`);
    }
    yield padding(entry.size);
  }
  yield Buffer.alloc(BLOCK * 2);
}
