// Witnesses (sigstore-js sign/src/witness): a witness testifies that a signature existed, and its testimony goes
// into the bundle's verification material. A signing flow calls every witness it was given the same way, so a
// timestamp authority (timestamp.ts) or a Rekor v2 log (rekor-v2.ts) is one more witness, not one more branch in
// each flow. Rekor v1 is the one here: it logs the signature as hashedrekord v0.0.1 (message signature) or dsse v0.0.1 (DSSE envelope).
import { dsseProposal, hashedRekordProposal, toBundleTlogEntry } from '../formats/index.js';
import type { SignedContent } from './bundle.js';
import type { RekorClient, RekorEntry } from './rekor.js';

/** What a witness adds to the bundle (sigstore_bundle.proto VerificationMaterial, JSON mapping). */
export interface Testimony {
  tlogEntries: Record<string, unknown>[];
  /** RFC 3161 timestamp tokens over the signature (a TSA witness). */
  rfc3161Timestamps?: Buffer[];
  /** The Rekor v1 entry, whose SET cosign's tag layout carries as an annotation. */
  rekorEntry?: RekorEntry;
}

export interface Witness {
  /** `signerPem` names the signer as a log entry does: the leaf certificate, or the public key. */
  testify(content: SignedContent, signerPem: string): Promise<Testimony>;
}

/** A Rekor v1 log as a witness: the entry (SET + inclusion proof) becomes the bundle's tlogEntries. */
export function rekorWitness(rekor: RekorClient): Witness {
  return {
    async testify(content, signerPem) {
      const entry = await rekor.createEntry(
        content.messageSignature
          ? hashedRekordProposal(
              content.messageSignature.digest.toString('hex'),
              content.messageSignature.signature,
              signerPem,
            )
          : dsseProposal(JSON.stringify(content.dsseEnvelope), signerPem),
      );
      return { tlogEntries: [toBundleTlogEntry(entry)], rekorEntry: entry };
    },
  };
}
