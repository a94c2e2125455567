// CPU per ES256 identity-token check: jose's jwtVerify (WebCrypto) against node:crypto's synchronous verify on a
// KeyObject, as src/ca/tokens.ts does. Usage: node bench/ca/jwt-verify-cost.mjs

import { createPublicKey, verify } from 'node:crypto';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';

const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
const jwt = await new SignJWT({ sub: 'x', aud: 'sigstore' })
  .setProtectedHeader({ alg: 'ES256' })
  .setIssuer('i')
  .setIssuedAt()
  .setExpirationTime('10m')
  .sign(privateKey);
const N = 5000;
const cpu0 = process.cpuUsage();
for (let i = 0; i < N; i++)
  await jwtVerify(jwt, publicKey, {
    algorithms: ['ES256'],
    issuer: 'i',
    audience: 'sigstore',
    maxTokenAge: '15m',
    requiredClaims: ['exp', 'iat', 'sub'],
  });
let c = process.cpuUsage(cpu0);
console.log('jose jwtVerify', ((c.user + c.system) / N).toFixed(1), 'us cpu/op');
const ko = createPublicKey({ key: await exportJWK(publicKey), format: 'jwk' });
const dot = jwt.lastIndexOf('.');
const input = Buffer.from(jwt.slice(0, dot));
const sig = Buffer.from(jwt.slice(dot + 1), 'base64url');
const cpu1 = process.cpuUsage();
for (let i = 0; i < N; i++) verify('sha256', input, { key: ko, dsaEncoding: 'ieee-p1363' }, sig);
c = process.cpuUsage(cpu1);
console.log('node verify', ((c.user + c.system) / N).toFixed(1), 'us cpu/op');
