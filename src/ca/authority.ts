// The certificate authority engine, without HTTP (fulcio pkg/server CreateSigningCertificate): verify the
// identity token, check that the caller holds the key (proof of possession or CSR), map the identity, issue a
// precertificate, get it logged and an SCT back from the CT log, and issue the final certificate with the SCT
// embedded (RFC 6962 §3.3). The SCT is returned once the log's entry is durable.
import { type PrecertSubmission, type Sct, sctListExtensionValue } from '../formats/index.js';
import { buildLeafTbs, signTbs, toPem } from './certificate.js';
import { CaError } from './errors.js';
import type { CaHierarchy } from './hierarchy.js';
import { checkAllowed, principalFromClaims } from './identity.js';
import {
  type ClientKey,
  checkProofOfPossession,
  clientKeyFromContent,
  clientKeyFromCsr,
} from './public-key.js';
import type { PreparedAnswer, SigningInput, SigningRequest } from './request.js';
import type { TokenVerifier } from './tokens.js';

export interface IssuedCertificate {
  /** PEM: leaf, intermediate, root, as fulcio.proto CertificateChain returns them. */
  chainPem: string[];
}

/** A certificate made but not yet released: its CT entry record still has to become durable. */
export interface PreparedCertificate {
  leafDer: Buffer;
  ctRecord?: Buffer;
}

/**
 * What the CA needs from a CT log (ct/'s SctSigner is one, and CtLog carries one): an SCT over a precertificate,
 * with the entry record that has to become durable before the certificate is released. An issue worker has one
 * of its own (see pool.ts); the record is appended on the main thread.
 */
export interface SctSource {
  sign(sub: PrecertSubmission): Promise<{ sct: Sct; record: Buffer }>;
}

/**
 * The CT log's SCT signer as an issue worker opens it: worker threads share no objects, so the composition names
 * a module each worker imports (its URL), which exports `openSctSource(init, defaultChain)`, and the cloneable
 * `init` it is given (e.g. the CT key's path). ct/ provides one (CT_WORKER_SCT_MODULE).
 */
export interface WorkerSctSource {
  module: string;
  init: unknown;
}

/** The CT log as the CA's main thread sees it (ct/'s CtLog): SCTs, and the durable append of their records. */
export interface CtLogLink {
  readonly sctSigner: SctSource;
  append(record: Buffer): Promise<unknown>;
}

/** Answers signing requests elsewhere (worker threads: see pool.ts); undefined means "do it in-process". */
export interface Preparer {
  answer(input: SigningInput): Promise<PreparedAnswer> | undefined;
}

export class CertificateAuthority {
  /** Intermediate and root PEM (no trailing newline): the end of every chain this CA returns. */
  readonly chainPemTail: string[];
  /** The same two as JSON strings joined by a comma, for rendering v2 answers. */
  readonly chainTailJson: string;
  private readonly sctSigner?: SctSource;
  /** Where HTTP signing requests are answered when set (worker threads); the CT append always happens here. */
  preparer?: Preparer;

  constructor(
    readonly hierarchy: CaHierarchy,
    private readonly tokens: TokenVerifier,
    /** Without a CT log the certificate carries no SCT (clients that require one will refuse it). */
    private readonly ct?: CtLogLink | SctSource,
  ) {
    this.chainPemTail = [toPem(hierarchy.intermediateDer).trim(), toPem(hierarchy.rootDer).trim()];
    this.chainTailJson = this.chainPemTail.map((p) => JSON.stringify(p)).join(',');
    this.sctSigner = ct && 'sctSigner' in ct ? ct.sctSigner : (ct as SctSource | undefined);
  }

  /** fulcio.proto TrustBundle: one chain, intermediate then root. */
  trustBundle(): string[][] {
    return [this.chainPemTail];
  }

  /** Everything but the durable CT append: token, key, identity, precertificate, SCT, final certificate. */
  async prepare(req: SigningRequest): Promise<PreparedCertificate> {
    const { issuer, claims } = await this.tokens.verify(req.token);
    const principal = principalFromClaims(issuer, claims);
    checkAllowed(issuer, claims, principal);
    let key: ClientKey;
    if (req.csr && req.csr.length > 0) {
      key = await clientKeyFromCsr(req.csr);
    } else if (req.publicKey !== undefined) {
      key = await clientKeyFromContent(req.publicKey);
      await checkProofOfPossession(key, principal.challenge, req.proofOfPossession ?? Buffer.alloc(0));
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
    if (!this.sctSigner) {
      return { leafDer: await signTbs(tbs.tbsWithoutPoison, ca.signer) };
    }
    const precert = await signTbs(tbs.precertTbs, ca.signer);
    const { sct, record } = await this.sctSigner.sign({
      tbs: tbs.tbsWithoutPoison,
      issuerKeyHash: ca.issuerKeyHash,
      precertificate: precert,
      chain: [this.hierarchy.intermediateDer, this.hierarchy.rootDer],
    });
    const leaf = await signTbs(tbs.finalTbs(sctListExtensionValue([sct])), ca.signer);
    return { leafDer: leaf, ctRecord: record };
  }

  /** Makes a CT entry record durable; the certificate it belongs to may be released once this resolves. */
  async record(ctRecord: Buffer): Promise<void> {
    if (!this.ct || !('append' in this.ct))
      throw new Error('a CT record was made but this CA has no CT store');
    try {
      await this.ct.append(ctRecord);
    } catch (err) {
      throw new CaError(503, `the CT log could not record the precertificate: ${(err as Error).message}`);
    }
  }

  /** Issues a certificate in-process: it is released only once its precertificate entry is durable. */
  async issue(req: SigningRequest): Promise<IssuedCertificate> {
    const prepared = await this.prepare(req);
    if (prepared.ctRecord) await this.record(prepared.ctRecord);
    return { chainPem: [toPem(prepared.leafDer).trim(), ...this.chainPemTail] };
  }
}
