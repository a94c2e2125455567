// CPU cost of answering one signing request in-process, without HTTP or threads: what an issue worker spends per
// certificate (token, proof of possession, precertificate, SCT, final certificate, rendered answer), next to the
// cost of the bare crypto operations it cannot avoid, measured in the same process. For profiling:
//   node --import tsx bench/ca/answer.ts [requests=3000]
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/ca/answer.ts
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { join } from 'node:path';
import { answerSigningRequest } from '../../src/ca/answer.js';
import { CertificateAuthority } from '../../src/ca/authority.js';
import { openHierarchy } from '../../src/ca/hierarchy.js';
import { TokenVerifier } from '../../src/ca/tokens.js';
import { loadOrCreatePrivateKey, localSigner, nativeCrypto } from '../../src/crypto/index.js';
import { SctSigner } from '../../src/ct/index.js';
import { startDevCa } from './dev-ca.js';

const N = Number(process.argv[2] ?? '3000');
const KEYS = 256;

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function main() {
  const dev = await startDevCa(KEYS);
  const { dataDir, issuers, inputs } = dev;
  try {
    // The same objects an issue worker builds (issue-worker.ts).
    const hierarchy = await openHierarchy(dataDir);
    const ctKey = await loadOrCreatePrivateKey(join(dataDir, 'ct', 'ct-key.pem'), 'ecdsa-p256');
    const ca = new CertificateAuthority(
      hierarchy,
      new TokenVerifier(() => issuers),
      new SctSigner(localSigner(ctKey), [hierarchy.intermediateDer, hierarchy.rootDer]),
    );
    const run = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const a = await answerSigningRequest(ca, inputs[i % KEYS]);
        if (a.status !== 200) throw new Error(`answer ${a.status}: ${a.body}`);
      }
    };
    // The floor: the same crypto operations on their own (token verify with a cached key, proof of
    // possession = hash + native verify on the raw point, three signatures).
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const point = publicKey.export({ type: 'spki', format: 'der' }).subarray(-65);
    const msg = Buffer.alloc(900, 7);
    const challenge = Buffer.from('repo:bench/repo0:ref:refs/heads/main');
    const sig = sign('sha256', msg, privateKey);
    const pop = sign('sha256', challenge, privateKey);
    const native = nativeCrypto;
    if (!native) throw new Error('the native ECDSA addon is not built (npm install builds it)');
    const floorOnce = () => {
      verify('sha256', msg, publicKey, sig);
      native.verify(1, point, createHash('sha256').update(challenge).digest(), pop);
      for (let k = 0; k < 3; k++) sign('sha256', msg, privateKey);
    };
    // Long enough for V8 to optimise the hot path.
    await run(2000);
    for (let i = 0; i < 300; i++) floorOnce();
    // The machine is shared: alternate short rounds of both and keep each one's best round.
    const rounds = 10;
    const per = Math.ceil(N / rounds);
    const answers: number[] = [];
    const floors: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let t = cpuUs();
      await run(per);
      answers.push((cpuUs() - t) / per);
      t = cpuUs();
      for (let i = 0; i < per; i++) floorOnce();
      floors.push((cpuUs() - t) / per);
    }
    // Contention inflates both alike, so the ratio of neighbouring measurements is the steadier figure.
    const ratios = answers.map((a, i) => a / floors[i]).sort((a, b) => a - b);
    const answerUs = Math.min(...answers);
    const floorUs = Math.min(...floors);
    process.stdout.write(
      `${JSON.stringify({
        requests: per * rounds,
        answerCpuUs: Math.round(answerUs),
        cryptoFloorUs: Math.round(floorUs),
        medianAnswerToFloor: Number(ratios[Math.floor(rounds / 2)].toFixed(3)),
        answerRounds: answers.map(Math.round),
      })}\n`,
    );
  } finally {
    await dev.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
