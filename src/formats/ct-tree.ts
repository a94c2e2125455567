// RFC 6962 CT log structures a monitor reads, both sides: the TreeHeadSignature input a log signs for its signed
// tree head (§3.5), the TLS `digitally-signed` wrapper of that signature (RFC 5246 §4.7), and the MerkleTreeLeaf
// (§3.4) that get-entries returns as leaf_input — the bytes the tree commits to, so the only ones a monitor may
// trust (extra_data is not covered by the tree hash).

/** §3.5 TreeHeadSignature: version v1, signature_type tree_hash, timestamp, tree_size, root hash. */
export function treeHeadSignedData(timestamp: number, size: number, root: Buffer): Buffer {
  const out = Buffer.alloc(2 + 8 + 8 + 32);
  out[0] = 0;
  out[1] = 1;
  out.writeBigUInt64BE(BigInt(timestamp), 2);
  out.writeBigUInt64BE(BigInt(size), 10);
  root.copy(out, 18);
  return out;
}

/** RFC 5246 §4.7 digitally-signed: hash and signature algorithm bytes, then a 16-bit length and the signature. */
export interface DigitallySigned {
  hashAlgorithm: number;
  signatureAlgorithm: number;
  signature: Buffer;
}

export function parseDigitallySigned(b: Buffer): DigitallySigned {
  if (b.length < 4 || b.readUInt16BE(2) !== b.length - 4)
    throw new Error('not a TLS digitally-signed structure');
  return { hashAlgorithm: b[0], signatureAlgorithm: b[1], signature: b.subarray(4) };
}

/** A MerkleTreeLeaf's TimestampedEntry: an X.509 certificate, or a precertificate's TBS with its issuer's key hash. */
export type CtLeaf =
  | { timestamp: number; type: 'x509'; certificate: Buffer }
  | { timestamp: number; type: 'precert'; issuerKeyHash: Buffer; tbs: Buffer };

const u24 = (b: Buffer, at: number) => b.readUIntBE(at, 3);

/** §3.4 MerkleTreeLeaf, v1 timestamped_entry only; throws on anything else or on trailing bytes. */
export function parseMerkleTreeLeaf(b: Buffer): CtLeaf {
  if (b.length < 12 || b[0] !== 0 || b[1] !== 0) throw new Error('not a v1 timestamped_entry MerkleTreeLeaf');
  const timestamp = Number(b.readBigUInt64BE(2));
  const entryType = b.readUInt16BE(10);
  let at = 12;
  let leaf: CtLeaf;
  if (entryType === 0) {
    const len = u24(b, at);
    leaf = { timestamp, type: 'x509', certificate: b.subarray(at + 3, at + 3 + len) };
    at += 3 + len;
  } else if (entryType === 1) {
    const issuerKeyHash = b.subarray(at, at + 32);
    const len = u24(b, at + 32);
    leaf = { timestamp, type: 'precert', issuerKeyHash, tbs: b.subarray(at + 35, at + 35 + len) };
    at += 35 + len;
  } else throw new Error(`unknown LogEntryType ${entryType}`);
  // CtExtensions<0..2^16-1>
  if (at + 2 > b.length || at + 2 + b.readUInt16BE(at) !== b.length)
    throw new Error('MerkleTreeLeaf length does not add up');
  return leaf;
}
