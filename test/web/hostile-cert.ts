// A self-signed certificate with HTML in its subject, SANs and Fulcio issuer extension, made by openssl, for the
// explorer's hostile-string tests: whatever page shows it must show the markup as text and run none of it.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const HOSTILE_EMAIL = '<script>window.pwned=1</script>@evil.example';
export const HOSTILE_URI = 'https://evil.example/<img src=x onerror=window.pwned=2>';
export const HOSTILE_ISSUER = '<i>https://issuer.evil</i>';

/** The key and certificate (PEM), written in `dir`. */
export async function hostileCertificate(dir: string): Promise<{ keyPem: string; certPem: string }> {
  const key = join(dir, 'hostile.key');
  const cert = join(dir, 'hostile.pem');
  execFileSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    '/CN=<b>evil<\\/b>',
    '-addext',
    `subjectAltName=email:${HOSTILE_EMAIL},URI:${HOSTILE_URI}`,
    '-addext',
    `1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:${HOSTILE_ISSUER}`,
  ]);
  return { keyPem: await readFile(key, 'utf8'), certPem: await readFile(cert, 'utf8') };
}
