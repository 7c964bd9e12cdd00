/**
 * Keyed hashes for the proxy: binding cookies, their names and the opaque
 * ids in log lines. Web Crypto only, so the proxy runs on any Fetch-API
 * runtime.
 *
 * Every use names its purpose (a domain) and length-prefixes its parts, so a
 * value made for one purpose never verifies for another and no two lists of
 * parts hash the same.
 */

const encoder = new TextEncoder();

export class Signer {
  readonly #subtle: SubtleCrypto;
  readonly #key: Promise<CryptoKey>;

  constructor(secret: string, subtle: SubtleCrypto = globalThis.crypto.subtle) {
    this.#subtle = subtle;
    this.#key = subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  }

  /** HMAC-SHA-256 of `parts` for `domain`, truncated to `bytes`, base64url. */
  async tag(domain: string, parts: readonly string[], bytes = 32): Promise<string> {
    const mac = await this.#subtle.sign('HMAC', await this.#key, frame(domain, parts));
    return base64url(new Uint8Array(mac, 0, Math.min(bytes, mac.byteLength)));
  }
}

/** Compares two strings in time that depends only on their lengths. */
export function timingSafeEqual(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i % Math.max(b.length, 1));
  return difference === 0;
}

function frame(domain: string, parts: readonly string[]): Uint8Array<ArrayBuffer> {
  const chunks = [`konpro-widget-guard/${domain}`, ...parts].map((part) => encoder.encode(part));
  const out = new Uint8Array(chunks.reduce((size, chunk) => size + 4 + chunk.length, 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const chunk of chunks) {
    view.setUint32(offset, chunk.length);
    out.set(chunk, offset + 4);
    offset += 4 + chunk.length;
  }
  return out;
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
