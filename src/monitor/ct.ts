// One pass of the identity monitor over an RFC 6962 CT log (sigil's at `/ct`, or any log serving §4): fetch the
// signed tree head (get-sth, §4.3) and verify its TreeHeadSignature (verify/), read every entry since the saved
// state with get-entries (§4.6, paged: a log may answer fewer than asked), append the leaf hashes of their
// leaf_input to the saved right edge and require the STH's root — the new tree head is thereby proven consistent
// with the last one, as get-sth-consistency would, and the entries read are exactly those it commits to — then
// report the certificates naming a watched identity. Only leaf_input is read: extra_data is not in the tree hash,
// so a log could show anything there. A precertificate entry holds the TBSCertificate alone; its identity is read
// from it wrapped as a certificate with an empty signature (parseCertificate reads, it does not verify).
import { bitString, oid, parseMerkleTreeLeaf, seq } from '../formats/index.js';
import { leafHash } from '../merkle/index.js';
import { request } from '../net/index.js';
import { type TrustedLog, verifySignedTreeHead } from '../verify/index.js';
import { type IdentityRule, identityOf, matchIdentity, mayMatch, prefilterFor } from './entries.js';
import { checkAgainstState, type PassResult, SplitViewError } from './monitor.js';
import type { Match } from './scan.js';
import { edgeOf, type MonitorState } from './state.js';

/** Entries asked for per get-entries request (sigil's cap, and a common one). */
const PAGE = 256;

export interface CtPassOptions {
  /** The log's URL prefix, before `/ct/v1/` (RFC 6962 §4). */
  ctUrl: string;
  /** The CT logs whose keys may sign its tree heads. */
  logs: TrustedLog[];
  rule: IdentityRule;
  state?: MonitorState;
  /** get-entries requests in flight. */
  concurrency?: number;
}

async function getJson(url: string): Promise<unknown> {
  const res = await request(url, { timeoutMs: 60_000 });
  if (res.status !== 200) {
    res.discard();
    throw new Error(`GET ${url}: HTTP ${res.status}`);
  }
  return res.json();
}

/** The leaf_input of entries [start, end), in as many get-entries requests as the log needs. */
async function leafInputs(ctUrl: string, start: number, end: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  while (start + out.length < end) {
    const from = start + out.length;
    const body = (await getJson(`${ctUrl}/ct/v1/get-entries?start=${from}&end=${end - 1}`)) as {
      entries?: { leaf_input?: unknown }[];
    };
    const got = body?.entries;
    if (!Array.isArray(got) || got.length === 0 || got.length > end - from)
      throw new SplitViewError(
        `get-entries from ${from} answered ${Array.isArray(got) ? got.length : 'no'} entries`,
      );
    for (const e of got) {
      if (typeof e?.leaf_input !== 'string')
        throw new SplitViewError(`get-entries from ${from}: no leaf_input`);
      out.push(Buffer.from(e.leaf_input, 'base64'));
    }
  }
  return out;
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

/** The certificate bytes a leaf names its subject with: the certificate, or the precertificate's TBS wrapped. */
function leafCertificate(leafInput: Buffer): Buffer | undefined {
  try {
    const leaf = parseMerkleTreeLeaf(leafInput);
    return leaf.type === 'x509' ? leaf.certificate : seq(leaf.tbs, ECDSA_SHA256, bitString(Buffer.alloc(0)));
  } catch {
    // Not a leaf this monitor reads: hashed all the same, so the tree still has to add up.
    return undefined;
  }
}

export async function ctMonitorPass(o: CtPassOptions): Promise<PassResult> {
  const sthJson = await getJson(`${o.ctUrl}/ct/v1/get-sth`);
  // The signature first: nothing the log says counts before it.
  const sth = verifySignedTreeHead(sthJson, o.logs);
  const origin = `CT log ${sth.log.logId.toString('hex')}`;
  const old = o.state;
  const rootB64 = sth.rootHash.toString('base64');
  const unchanged = checkAgainstState(old, origin, sth.treeSize, rootB64, 'tree head');
  if (unchanged) return unchanged;
  const edge = edgeOf(old);
  const from = edge.size;
  const prefilter = prefilterFor(o.rule);
  const matches: Match[] = [];
  // Pages are fetched ahead but consumed in order, as the edge must grow in order.
  const pages: Promise<Buffer[]>[] = [];
  const concurrency = o.concurrency ?? 4;
  const pageStart = (k: number) => from + k * PAGE;
  const count = Math.ceil((sth.treeSize - from) / PAGE);
  const fetchAhead = (k: number) => {
    for (let j = pages.length; j < Math.min(count, k + concurrency); j++) {
      const p = leafInputs(o.ctUrl, pageStart(j), Math.min(sth.treeSize, pageStart(j) + PAGE));
      p.catch(() => {});
      pages.push(p);
    }
  };
  for (let k = 0; k < count; k++) {
    fetchAhead(k);
    const leaves = await pages[k];
    for (let i = 0; i < leaves.length; i++) {
      const hash = leafHash(leaves[i]);
      edge.append(hash);
      const cert = leafCertificate(leaves[i]);
      if (!cert || !mayMatch(cert, prefilter)) continue;
      const id = identityOf(cert);
      const san = id && matchIdentity(id, o.rule);
      if (san)
        matches.push({
          index: pageStart(k) + i,
          identity: san,
          issuer: id.issuer,
          leafHash: hash.toString('hex'),
        });
    }
  }
  if (!edge.root().equals(sth.rootHash))
    throw new SplitViewError(
      old
        ? `the log is not consistent: tree ${old.size} (verified before) extended by the entries it serves does not give the root of its tree head for size ${sth.treeSize}`
        : `the entries the log serves do not give the root of its tree head for size ${sth.treeSize}`,
    );
  const state: MonitorState = {
    logUrl: o.ctUrl,
    origin,
    size: sth.treeSize,
    rootHash: rootB64,
    checkpoint: JSON.stringify(sthJson),
    edge: edge.subtrees().map((h) => h.toString('hex')),
  };
  return {
    origin,
    from,
    to: sth.treeSize,
    entriesScanned: sth.treeSize - from,
    bundlesFetched: count,
    matches,
    state,
  };
}
