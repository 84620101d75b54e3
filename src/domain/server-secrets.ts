/**
 * Keys derived from the server secret (`GRANTORY_SECRET_KEY`): one HMAC key for the stored
 * hashes of credentials (API keys, application keys, client secrets) and one AES-256-GCM
 * key for the private signing keys kept in the store. Each is derived with HKDF-SHA256 under
 * its own label, so neither use can be turned against the other.
 *
 * ```ts
 * const secrets = createServerSecrets('a long random string of 32 or more characters');
 * secrets.hashCredential('gty_...');            // 64 hex characters, keyed
 * secrets.decrypt(secrets.encrypt('{"d":1}'));  // '{"d":1}'
 * ```
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** The file beside the SQLite database that holds a generated server secret. */
export const SECRET_KEY_FILE = 'secret.key';

export const MIN_SECRET_KEY_LENGTH = 32;

export interface ServerSecrets {
  /** The keyed hash a credential is stored and looked up by: HMAC-SHA256, hex. */
  hashCredential(secret: string): string;
  /** Encrypts with AES-256-GCM; the result is `v1.<iv>.<ciphertext>.<tag>` in base64url. */
  encrypt(plaintext: string): string;
  /** Decrypts what {@link ServerSecrets.encrypt} produced; throws when the key or data differ. */
  decrypt(sealed: string): string;
}

function derive(secretKey: string, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secretKey, 'utf8'), Buffer.from('grantory'), Buffer.from(label), 32));
}

export function createServerSecrets(secretKey: string): ServerSecrets {
  if (secretKey.length < MIN_SECRET_KEY_LENGTH) throw new Error(`the server secret key must have at least ${MIN_SECRET_KEY_LENGTH} characters`);
  const hashKey = derive(secretKey, 'credential-hash');
  const encryptionKey = derive(secretKey, 'signing-key-encryption');
  return {
    hashCredential: (secret) => createHmac('sha256', hashKey).update(secret, 'utf8').digest('hex'),
    encrypt(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv, data, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    decrypt(sealed) {
      const [version, iv, data, tag] = sealed.split('.');
      if (version !== 'v1' || !iv || !data || !tag) throw new Error('unknown encrypted value format');
      const decipher = createDecipheriv('aes-256-gcm', encryptionKey, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

/** A fresh random secret key (used for the embedded store's first start). */
export function generateSecretKey(): string {
  return randomBytes(32).toString('base64url');
}
