// The CA's certificate transparency log as the explorer reads it (RFC 6962): the signed tree head's
// TreeHeadSignature (§3.5) checked with WebCrypto under a CT key from the trusted root, and get-entries'
// leaf_input read as a MerkleTreeLeaf (§3.4): an X.509 certificate, or a precertificate's TBSCertificate, which is
// wrapped as a certificate with an empty signature so the page's certificate reader can show its names (it reads,
// it verifies nothing). extra_data is not covered by the tree hash, so the page shows only leaf_input.
import { concat, fromBase64 } from './bytes.js';
import type { Check, LogKey } from './checks.js';
import { verifyBy } from './checks.js';

export interface SignedTreeHead {
  tree_size: number;
  timestamp: number;
  sha256_root_hash: string;
  tree_head_signature: string;
}

/** §3.5 TreeHeadSignature: version v1 (0), signature_type tree_hash (1), timestamp, tree_size, root hash. */
export function treeHeadData(timestamp: number, size: number, root: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + 8 + 8 + 32);
  const view = new DataView(out.buffer);
  out[1] = 1;
  view.setBigUint64(2, BigInt(timestamp));
  view.setBigUint64(10, BigInt(size));
  out.set(root, 18);
  return out;
}

/** The STH verifies under one of `keys` (RFC 5246 digitally-signed: 2 algorithm bytes, a length, the signature). */
export async function checkSignedTreeHead(sth: SignedTreeHead, keys: LogKey[]): Promise<Check> {
  const root = fromBase64(sth.sha256_root_hash);
  const ds = fromBase64(sth.tree_head_signature);
  if (root.length !== 32 || ds.length < 4 || ((ds[2] << 8) | ds[3]) !== ds.length - 4)
    return { ok: false, detail: 'the tree head is malformed' };
  const data = treeHeadData(sth.timestamp, sth.tree_size, root);
  for (const key of keys)
    if (await verifyBy(key, ds.subarray(4), data))
      return { ok: true, detail: 'signed by a CT log key of the trusted root' };
  return { ok: false, detail: 'no CT log key of the trusted root verifies it' };
}

export interface CtLeaf {
  timestamp: number;
  type: 'certificate' | 'precertificate';
  /** DER of the certificate, or of the precertificate's TBS wrapped as one. */
  certificate: Uint8Array;
}

const u24 = (b: Uint8Array, at: number) => (b[at] << 16) | (b[at + 1] << 8) | b[at + 2];

/** DER length octets. */
function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

const ECDSA_SHA256 = Uint8Array.of(0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02);
const EMPTY_BIT_STRING = Uint8Array.of(0x03, 0x01, 0x00);

/** Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signature } around a TBS, the signature empty. */
export function wrapTbs(tbs: Uint8Array): Uint8Array {
  const body = concat(tbs, ECDSA_SHA256, EMPTY_BIT_STRING);
  return concat(Uint8Array.of(0x30), derLength(body.length), body);
}

/** §3.4 MerkleTreeLeaf, v1 timestamped_entry: x509_entry (0) or precert_entry (1). */
export function parseLeaf(b: Uint8Array): CtLeaf {
  if (b.length < 12 || b[0] !== 0 || b[1] !== 0) throw new Error('not a v1 timestamped_entry leaf');
  const timestamp = Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(2));
  const type = (b[10] << 8) | b[11];
  if (type === 0) {
    const len = u24(b, 12);
    if (15 + len > b.length) throw new Error('the leaf ends inside its certificate');
    return { timestamp, type: 'certificate', certificate: b.subarray(15, 15 + len) };
  }
  if (type === 1) {
    const len = u24(b, 44);
    if (47 + len > b.length) throw new Error('the leaf ends inside its TBSCertificate');
    return { timestamp, type: 'precertificate', certificate: wrapTbs(b.subarray(47, 47 + len)) };
  }
  throw new Error(`unknown entry type ${type}`);
}
