// The TUF role keys and what is done with them: each role signs with its own Ed25519 key kept in
// DATA/tuf/keys/<role>.pem (0600, in a 0700 directory). The root key is a file apart from the three online keys
// (timestamp, snapshot, targets) so that it can live offline: the server reads it only to create the first root
// and to renew an expiring one. Signing goes through crypto's Signer interface, so a KMS or HSM can stand in.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  generateKey,
  loadOrCreatePrivateKey,
  localSigner,
  type Signer,
  verifySignature,
} from '../crypto/index.js';
import {
  canonicalJson,
  type Metadata,
  type RoleKeys,
  type RoleName,
  type Signed,
  type TufKey,
  tufKeyId,
} from '../formats/index.js';

export const KEYS_DIR = 'keys';

export const roleKeyPath = (tufDir: string, role: RoleName) => join(tufDir, KEYS_DIR, `${role}.pem`);

/** A role key as TUF names it (KEY and KEYID, §4.2) together with the signer holding its private half. */
export interface RoleSigner {
  keyid: string;
  key: TufKey;
  signer: Signer;
}

/** §4.2 "ed25519" KEY: the raw 32-byte public key, hex. */
export function tufKeyOf(publicKey: KeyObject): TufKey {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error('TUF keys here are Ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  return { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw.toString('hex') } };
}

/** The public KeyObject of a TUF Ed25519 KEY. */
export function publicKeyOf(key: TufKey): KeyObject {
  const x = Buffer.from(key.keyval.public, 'hex').toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

export function roleSigner(signer: Signer): RoleSigner {
  const key = tufKeyOf(signer.publicKey);
  return { keyid: tufKeyId(key), key, signer };
}

/** The role's key in the data dir, created on first use. */
export async function openRoleKey(tufDir: string, role: RoleName): Promise<RoleSigner> {
  await mkdir(join(tufDir, KEYS_DIR), { recursive: true, mode: 0o700 });
  return roleSigner(localSigner(await loadOrCreatePrivateKey(roleKeyPath(tufDir, role), 'ed25519')));
}

/** A key file that may be absent (the root key kept offline): undefined then. */
export async function readRoleKey(path: string): Promise<RoleSigner | undefined> {
  try {
    return roleSigner(localSigner(createPrivateKey(await readFile(path, 'utf8'))));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** A fresh Ed25519 key, kept in memory until the caller stores it. */
export function newRoleKey(): { signer: RoleSigner; pem: string } {
  const privateKey = generateKey('ed25519');
  return {
    signer: roleSigner(localSigner(privateKey)),
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** §4.2: one signature per key over the canonical JSON of `signed`. */
export async function signMetadata<T extends Signed>(signed: T, signers: RoleSigner[]): Promise<Metadata<T>> {
  const bytes = canonicalJson(signed);
  const unique = [...new Map(signers.map((s) => [s.keyid, s])).values()];
  const signatures = await Promise.all(
    unique.map(async (s) => ({ keyid: s.keyid, sig: (await s.signer.sign(bytes)).toString('hex') })),
  );
  return { signed, signatures };
}

/**
 * Whether `md` carries valid signatures from at least `role.threshold` distinct keys of `role` (§5.3.4's check,
 * used here to refuse to build on a root that the key in hand did not sign).
 */
export function meetsThreshold(md: Metadata, keys: Record<string, TufKey>, role: RoleKeys): boolean {
  const bytes = canonicalJson(md.signed);
  const good = new Set<string>();
  for (const s of md.signatures) {
    const key = keys[s.keyid];
    if (!key || !role.keyids.includes(s.keyid) || good.has(s.keyid)) continue;
    if (verifySignature(publicKeyOf(key), bytes, Buffer.from(s.sig, 'hex'))) good.add(s.keyid);
  }
  return good.size >= role.threshold;
}

/** Encodes signed metadata as served: indented JSON (what is signed is the canonical form of "signed"). */
export function metadataBytes(md: Metadata): Buffer {
  return Buffer.from(`${JSON.stringify(md, null, 2)}\n`);
}
