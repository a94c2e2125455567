// The simple-signing payload cosign signs for an image (sigstore/cosign specs/SIGNATURE_SPEC.md, "Simple
// Signing"; containers/image docs/containers-signature.5.md): critical.identity.docker-reference,
// critical.image.docker-manifest-digest, critical.type, and free-form optional annotations.

export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';

export interface SimpleSigningPayload {
  critical: {
    identity: { 'docker-reference': string };
    image: { 'docker-manifest-digest': string };
    type: string;
  };
  optional?: Record<string, unknown> | null;
}

export function buildSimpleSigningPayload(
  dockerReference: string,
  manifestDigest: string,
  optional?: Record<string, unknown>,
): Buffer {
  const payload: SimpleSigningPayload = {
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': manifestDigest },
      type: SIMPLE_SIGNING_TYPE,
    },
    optional: optional ?? null,
  };
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

/** Parses and checks the critical section; throws with the reason when the payload is not a cosign payload. */
export function parseSimpleSigningPayload(bytes: Uint8Array): SimpleSigningPayload {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new Error('simple-signing payload is not JSON');
  }
  const p = json as Partial<SimpleSigningPayload>;
  const c = p?.critical;
  if (typeof c !== 'object' || c === null) throw new Error('simple-signing payload has no critical section');
  if (c.type !== SIMPLE_SIGNING_TYPE)
    throw new Error(`simple-signing payload type is ${JSON.stringify(c.type)}`);
  if (typeof c.image?.['docker-manifest-digest'] !== 'string') {
    throw new Error('simple-signing payload has no critical.image.docker-manifest-digest');
  }
  if (typeof c.identity?.['docker-reference'] !== 'string') {
    throw new Error('simple-signing payload has no critical.identity.docker-reference');
  }
  return p as SimpleSigningPayload;
}
