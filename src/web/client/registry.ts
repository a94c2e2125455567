// The explorer's client of sigil's OCI registry (distribution-spec /v2/…): the catalog, a repository's tags, a
// manifest with its digest, cosign's signature and attestation tags (sha256-<hex>.sig / .att) and OCI referrers,
// and the Sigstore bundles they carry, each pointing at its log entry. The registry asks for a bearer token (the
// Docker token flow): the page follows the challenge to /v2/token on this origin, anonymously or with credentials
// the user typed in (kept in this page's memory only, never stored).
import { fromUtf8, toBase64, utf8 } from './bytes.js';

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

let basic: string | undefined;
const tokens = new Map<string, string>();

/** Credentials for the token endpoint, from the page's form; tokens got without them are dropped. */
export function setCredentials(user: string, password: string): void {
  basic = `Basic ${toBase64(utf8(`${user}:${password}`))}`;
  tokens.clear();
}
export const hasCredentials = () => basic !== undefined;

export class RegistryError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `Bearer realm="…",service="…",scope="…"` as a map. */
function challenge(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of header.matchAll(/(\w+)="([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

async function token(c: Record<string, string>): Promise<string> {
  const key = `${c.service} ${c.scope}`;
  const hit = tokens.get(key);
  if (hit) return hit;
  // The realm's path on this origin: the page talks to its own origin only (connect-src 'self').
  const realm = new URL(c.realm ?? '/v2/token', location.origin);
  const url = new URL(realm.pathname, location.origin);
  if (c.service) url.searchParams.set('service', c.service);
  if (c.scope) url.searchParams.set('scope', c.scope);
  const res = await fetch(url, { headers: basic ? { authorization: basic } : {} });
  if (!res.ok) throw new RegistryError(res.status, `the registry's token endpoint answered ${res.status}`);
  const j = (await res.json()) as { token?: string; access_token?: string };
  const t = j.token ?? j.access_token ?? '';
  tokens.set(key, t);
  return t;
}

/** GET on the registry, following one bearer challenge. */
async function get(path: string, accept = 'application/json'): Promise<Response> {
  let res = await fetch(path, { headers: { accept } });
  const header = res.headers.get('www-authenticate');
  if (res.status === 401 && header?.startsWith('Bearer ')) {
    const t = await token(challenge(header));
    res = await fetch(path, { headers: { accept, authorization: `Bearer ${t}` } });
  }
  if (!res.ok) {
    let message = `${path}: HTTP ${res.status}`;
    try {
      const j = (await res.json()) as { errors?: { message?: string }[] };
      if (j.errors?.[0]?.message) message = `${path}: ${j.errors[0].message}`;
    } catch {
      // not JSON
    }
    throw new RegistryError(res.status, message);
  }
  return res;
}

const repoPath = (name: string) => name.split('/').map(encodeURIComponent).join('/');

export async function catalog(): Promise<string[]> {
  const j = (await (await get('/v2/_catalog?n=1000')).json()) as { repositories?: unknown };
  return Array.isArray(j.repositories) ? j.repositories.map(String) : [];
}

export async function tags(name: string): Promise<string[]> {
  const j = (await (await get(`/v2/${repoPath(name)}/tags/list?n=1000`)).json()) as { tags?: unknown };
  return Array.isArray(j.tags) ? j.tags.map(String) : [];
}

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface Manifest {
  digest: string;
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** A manifest by tag or digest, with the digest the registry names it by (Docker-Content-Digest). */
export async function manifest(name: string, reference: string): Promise<Manifest> {
  const res = await get(`/v2/${repoPath(name)}/manifests/${encodeURIComponent(reference)}`, MANIFEST_TYPES);
  const digest = res.headers.get('docker-content-digest') ?? reference;
  return { ...((await res.json()) as Omit<Manifest, 'digest'>), digest };
}

/** A manifest, or undefined when there is none under that tag. */
export async function manifestIfAny(name: string, reference: string): Promise<Manifest | undefined> {
  try {
    return await manifest(name, reference);
  } catch (err) {
    if (err instanceof RegistryError && err.status === 404) return undefined;
    throw err;
  }
}

export async function referrers(name: string, digest: string): Promise<Descriptor[]> {
  const j = (await (
    await get(
      `/v2/${repoPath(name)}/referrers/${encodeURIComponent(digest)}`,
      'application/vnd.oci.image.index.v1+json',
    )
  ).json()) as { manifests?: Descriptor[] };
  return j.manifests ?? [];
}

export async function blobText(name: string, digest: string): Promise<string> {
  return fromUtf8(
    new Uint8Array(
      await (await get(`/v2/${repoPath(name)}/blobs/${encodeURIComponent(digest)}`, '*/*')).arrayBuffer(),
    ),
  );
}

/** Where a signature or attestation was logged: Rekor v1 by index, or the v2 log by index. */
export interface LogPointer {
  log: 'v1' | 'v2';
  index: number;
}

/** cosign's `dev.sigstore.cosign/bundle` annotation (a Rekor v1 bundle: Payload.logIndex). */
export function pointerFromCosignBundle(annotation: string | undefined): LogPointer | undefined {
  if (!annotation) return undefined;
  try {
    const index = (JSON.parse(annotation) as { Payload?: { logIndex?: unknown } }).Payload?.logIndex;
    return Number.isSafeInteger(index) ? { log: 'v1', index: index as number } : undefined;
  } catch {
    return undefined;
  }
}

/** A Sigstore bundle's first transparency log entry: v1 or v2 by its kindVersion. */
export function pointerFromSigstoreBundle(text: string): LogPointer | undefined {
  try {
    const e = (
      JSON.parse(text) as {
        verificationMaterial?: {
          tlogEntries?: { logIndex?: unknown; kindVersion?: { version?: string } }[];
        };
      }
    ).verificationMaterial?.tlogEntries?.[0];
    const index = Number(e?.logIndex);
    if (!Number.isSafeInteger(index)) return undefined;
    return { log: e?.kindVersion?.version === '0.0.2' ? 'v2' : 'v1', index };
  } catch {
    return undefined;
  }
}
