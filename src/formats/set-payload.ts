// Rekor v1's signed entry timestamp (SET, sigstore/rekor pkg/api/entries.go): the log's signature over the RFC 8785
// canonical JSON of {body, integratedTime, logID, logIndex}, which promises the entry's inclusion at that time. The
// log signs this text and every verifier (bundles, cosign's Rekor bundle annotation, `sigil log`) checks it.

export interface SetPayload {
  /** base64 of the canonical entry body. */
  body: string;
  integratedTime: number;
  /** hex SHA-256 of the log's DER public key. */
  logID: string;
  logIndex: number;
}

/**
 * The text a signed entry timestamp signs: canonical JSON of {body, integratedTime, logID, logIndex}. Written out
 * directly: the keys are already in RFC 8785 order and base64, hex and integers never need escaping, so this is
 * the canonical form without a sort or an escape scan (test/log/api.test.ts cross-checks it with canonicalize).
 */
export function setPayloadText(p: SetPayload): string {
  if (!/^[A-Za-z0-9+/=]*$/.test(p.body) || !/^[0-9a-f]*$/.test(p.logID)) {
    throw new Error('SET payload body must be base64 and logID hex');
  }
  if (!Number.isSafeInteger(p.integratedTime) || !Number.isSafeInteger(p.logIndex)) {
    throw new Error('SET payload integratedTime and logIndex must be safe integers');
  }
  return `{"body":"${p.body}","integratedTime":${p.integratedTime},"logID":"${p.logID}","logIndex":${p.logIndex}}`;
}
