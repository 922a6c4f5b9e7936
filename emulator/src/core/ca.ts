/**
 * The emulator's TLS material: a CA generated on first start (kept in `caDir`, shared by every emulator instance
 * that points there, so one NODE_EXTRA_CA_CERTS serves them all) and a server certificate it signs for
 * 127.0.0.1, ::1, localhost, *.vault.localhost and *.azurecr.localhost. Keys come from Node's crypto (fast); node-forge writes X.509.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

export interface TlsMaterial {
  caCertPath: string;
  caCertPem: string;
  certPem: string;
  keyPem: string;
}

function newKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function serial(): string {
  // A positive DER INTEGER with no padding issues: 16 bytes, top bit clear, first byte non-zero. (An odd number
  // of hex digits made about one certificate in a few hundred unreadable: ERR_OSSL_ASN1_ILLEGAL_PADDING.)
  const bytes = crypto.randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function writeAtomic(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function ensureCa(caDir: string): { certPem: string; keyPem: string; certPath: string } {
  fs.mkdirSync(caDir, { recursive: true });
  const certPath = path.join(caDir, 'ca.pem');
  const keyPath = path.join(caDir, 'ca-key.pem');
  if (fs.existsSync(certPath) && fs.existsSync(keyPath)) {
    return { certPem: fs.readFileSync(certPath, 'utf8'), keyPem: fs.readFileSync(keyPath, 'utf8'), certPath };
  }
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  const attrs = [
    { name: 'commonName', value: 'ACI blue/green local emulator CA' },
    { name: 'organizationName', value: 'aci-bluegreen-functions (local only)' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keys.privatePem), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  // Write the key first: a reader that sees ca.pem then finds its key.
  writeAtomic(keyPath, keys.privatePem);
  writeAtomic(certPath, certPem);
  return { certPem, keyPem: keys.privatePem, certPath };
}

export function issueServerCertificate(caDir: string): TlsMaterial {
  const ca = ensureCa(caDir);
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3600 * 1000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 2, value: '*.vault.localhost' },
        { type: 2, value: '*.azurecr.localhost' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return {
    caCertPath: ca.certPath,
    caCertPem: ca.certPem,
    certPem: forge.pki.certificateToPem(cert),
    keyPem: keys.privatePem,
  };
}
