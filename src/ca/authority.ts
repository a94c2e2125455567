// The certificate authority engine, without HTTP (fulcio pkg/server CreateSigningCertificate): verify the
// identity token, check that the caller holds the key (proof of possession or CSR), map the identity, issue a
// precertificate, get it logged and an SCT back from the CT log, and issue the final certificate with the SCT
// embedded (RFC 6962 §3.3). The SCT is returned once the log's entry is durable.

import type { CtLog } from '../ct/index.js';
import { sctListExtensionValue } from '../ct/index.js';
import { buildLeafTbs, signTbs, toPem } from './certificate.js';
import { CaError } from './errors.js';
import type { CaHierarchy } from './hierarchy.js';
import { principalFromClaims } from './identity.js';
import {
  type ClientKey,
  checkProofOfPossession,
  clientKeyFromContent,
  clientKeyFromCsr,
} from './public-key.js';
import type { TokenVerifier } from './tokens.js';

export interface SigningRequest {
  token: string;
  /** PublicKeyRequest: the key (PEM, or base64 DER) and a signature over the token's challenge claim. */
  publicKey?: string;
  proofOfPossession?: Buffer;
  /** Or a PKCS#10 CSR (PEM or DER); its self-signature is the proof. */
  csr?: Buffer;
}

export interface IssuedCertificate {
  /** DER: leaf, intermediate, root. */
  chain: Buffer[];
  /** PEM of the same, as fulcio.proto CertificateChain returns them. */
  chainPem: string[];
}

export class CertificateAuthority {
  private readonly chainPemTail: string[];

  constructor(
    readonly hierarchy: CaHierarchy,
    private readonly tokens: TokenVerifier,
    /** Without a CT log the certificate carries no SCT (clients that require one will refuse it). */
    private readonly ct?: CtLog,
  ) {
    this.chainPemTail = [toPem(hierarchy.intermediateDer).trim(), toPem(hierarchy.rootDer).trim()];
  }

  /** fulcio.proto TrustBundle: one chain, intermediate then root. */
  trustBundle(): string[][] {
    return [this.chainPemTail];
  }

  async issue(req: SigningRequest): Promise<IssuedCertificate> {
    const { issuer, claims } = await this.tokens.verify(req.token);
    const principal = principalFromClaims(issuer, claims);
    let key: ClientKey;
    if (req.csr && req.csr.length > 0) {
      key = clientKeyFromCsr(req.csr);
    } else if (req.publicKey !== undefined) {
      key = clientKeyFromContent(req.publicKey);
      checkProofOfPossession(key, principal.challenge, req.proofOfPossession ?? Buffer.alloc(0));
    } else {
      throw new CaError(
        400,
        'the request needs publicKeyRequest (public key + proof of possession) or a CSR',
      );
    }
    const ca = this.hierarchy.issuing;
    const tbs = buildLeafTbs(ca, {
      spki: key.spki,
      san: principal.san,
      extensions: principal.extensions,
      notBefore: new Date(),
    });
    let leaf: Buffer;
    if (this.ct) {
      const precert = await signTbs(tbs.precertTbs, ca.signer);
      const logged = await this.ct.logPrecertificate({
        tbs: tbs.tbsWithoutPoison,
        issuerKeyHash: ca.issuerKeyHash,
        precertificate: precert,
        chain: [this.hierarchy.intermediateDer, this.hierarchy.rootDer],
      });
      // The final signature is made while the log's group commit is on its way to disk.
      leaf = await signTbs(tbs.finalTbs(sctListExtensionValue([logged.sct])), ca.signer);
      try {
        await logged.durable;
      } catch (err) {
        throw new CaError(503, `the CT log could not record the precertificate: ${(err as Error).message}`);
      }
    } else {
      leaf = await signTbs(tbs.tbsWithoutPoison, ca.signer);
    }
    return {
      chain: [leaf, this.hierarchy.intermediateDer, this.hierarchy.rootDer],
      chainPem: [toPem(leaf).trim(), ...this.chainPemTail],
    };
  }
}
