// OSDP Secure Channel cryptography (SIA OSDP 2.2, Annex D): keys, cryptograms, the MAC chain and data encryption; pure.
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';

/** SCBK-D, the default install-mode key (Annex D): bytes 0x30..0x3F. */
export const SCBK_D: Buffer = Buffer.from([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f]);

export interface SessionKeys {
  enc: Buffer;
  mac1: Buffer;
  mac2: Buffer;
}

function ecb(key: Uint8Array, block: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-128-ecb', key, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]);
}

function cbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-128-cbc', key, iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

function cbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const decipher = createDecipheriv('aes-128-cbc', key, iv);
  decipher.setAutoPadding(false);
  return Buffer.concat([decipher.update(data), decipher.final()]);
}

function need(name: string, v: Uint8Array, length: number): void {
  if (v.length !== length) throw new RangeError(`${name} must be ${length} bytes, got ${v.length}`);
}

/**
 * Session keys (Annex D.3): each is AES-128-ECB under the SCBK of a block made of two constant bytes
 * (S-ENC 01 82, S-MAC1 01 01, S-MAC2 01 02), the first six bytes of RND.A, and eight zero bytes.
 */
export function deriveSessionKeys(scbk: Uint8Array, rndA: Uint8Array): SessionKeys {
  need('SCBK', scbk, 16);
  need('RND.A', rndA, 8);
  const block = (b1: number) => {
    const b = Buffer.alloc(16);
    b[0] = 0x01;
    b[1] = b1;
    b.set(rndA.subarray(0, 6), 2);
    return ecb(scbk, b);
  };
  return { enc: block(0x82), mac1: block(0x01), mac2: block(0x02) };
}

/** The PD's (client) cryptogram sent in osdp_CCRYPT: AES(S-ENC, RND.A || RND.B). */
export function clientCryptogram(keys: SessionKeys, rndA: Uint8Array, rndB: Uint8Array): Buffer {
  return ecb(keys.enc, Buffer.concat([rndA, rndB]));
}

/** The ACU's (server) cryptogram sent in osdp_SCRYPT: AES(S-ENC, RND.B || RND.A). */
export function serverCryptogram(keys: SessionKeys, rndA: Uint8Array, rndB: Uint8Array): Buffer {
  return ecb(keys.enc, Buffer.concat([rndB, rndA]));
}

/** The initial R-MAC the PD returns in osdp_RMAC_I: AES(S-MAC2, AES(S-MAC1, server cryptogram)). */
export function initialRmac(keys: SessionKeys, serverCrypt: Uint8Array): Buffer {
  return ecb(keys.mac2, ecb(keys.mac1, serverCrypt));
}

/** Constant-time compare of equal-length buffers; false for different lengths. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The 16-byte MAC of a message (Annex D.4): the message from SOM to the end of its data, padded
 * with 0x80 and zeros to a whole block only when it is not one already, run through AES-CBC with the
 * previous MAC of the other side as IV (a command chains on the last R-MAC, a reply on the last
 * C-MAC): every block but the last under S-MAC1, the last under S-MAC2. The packet carries its
 * first 4 bytes; the whole 16 are the IV of the next MAC in the other direction.
 */
export function computeMac(keys: Pick<SessionKeys, 'mac1' | 'mac2'>, iv: Uint8Array, message: Uint8Array): Buffer {
  need('IV', iv, 16);
  let padded = Buffer.from(message);
  if (padded.length % 16 !== 0 || padded.length === 0) {
    const out = Buffer.alloc(Math.ceil((padded.length + 1) / 16) * 16);
    padded.copy(out);
    out[padded.length] = 0x80;
    padded = out;
  }
  let chain: Buffer = Buffer.from(iv);
  if (padded.length > 16) {
    const head = cbcEncrypt(keys.mac1, chain, padded.subarray(0, padded.length - 16));
    chain = head.subarray(head.length - 16);
  }
  return cbcEncrypt(keys.mac2, chain, padded.subarray(padded.length - 16));
}

const complement = (mac: Uint8Array): Buffer => Buffer.from(Uint8Array.from(mac.subarray(0, 16), (b) => ~b & 0xff));

/**
 * Encrypts a message's data (Annex D.5): always padded with 0x80 then zeros to a whole number of
 * blocks (so 16 bytes become 32), AES-CBC under S-ENC with the one's complement of the other side's
 * last MAC as IV (a command uses ~R-MAC, a reply ~C-MAC).
 */
export function encryptData(enc: Uint8Array, lastOtherMac: Uint8Array, plain: Uint8Array): Buffer {
  need('MAC', lastOtherMac, 16);
  const padded = Buffer.alloc(Math.ceil((plain.length + 1) / 16) * 16);
  padded.set(plain);
  padded[plain.length] = 0x80;
  return cbcEncrypt(enc, complement(lastOtherMac), padded);
}

/** The inverse of encryptData; null when the length or the 0x80 end marker is wrong. */
export function decryptData(enc: Uint8Array, lastOtherMac: Uint8Array, cipher: Uint8Array): Buffer | null {
  need('MAC', lastOtherMac, 16);
  if (cipher.length === 0 || cipher.length % 16 !== 0) return null;
  const plain = cbcDecrypt(enc, complement(lastOtherMac), cipher);
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0x00) end--;
  if (end < 0 || plain[end] !== 0x80) return null;
  return plain.subarray(0, end);
}

/** A 32-hex-digit SCBK from config as bytes. */
export function parseKey(hex: string): Buffer {
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError('an SCBK is 32 hex digits');
  return Buffer.from(hex, 'hex');
}
