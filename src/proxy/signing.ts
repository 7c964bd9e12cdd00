/**
 * Keyed hashes for the proxy: binding cookies, their names and the opaque
 * ids in log lines. Web Crypto, so the proxy runs on any Fetch-API runtime;
 * where `node:crypto` is at hand (Node, Bun, Deno, through
 * `process.getBuiltinModule`), its HMAC instead: the same bytes, computed in
 * the calling thread, where a Web Crypto HMAC is a job on another thread that
 * costs more than the request's own work.
 *
 * Every use names its purpose (a domain) and length-prefixes its parts, so a
 * value made for one purpose never verifies for another and no two lists of
 * parts hash the same.
 */

const encoder = new TextEncoder();

/** The part of `node:crypto` a signer uses. */
interface NodeHmac {
  createHmac(algorithm: 'sha256', key: Uint8Array): { update(data: Uint8Array): { digest(): Uint8Array } };
}

/** `node:crypto`, where the runtime has it (without importing it: the proxy also runs where it does not). */
function nodeCrypto(): NodeHmac | undefined {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const crypto = runtime?.getBuiltinModule?.('node:crypto') as Partial<NodeHmac> | undefined;
    return typeof crypto?.createHmac === 'function' ? (crypto as NodeHmac) : undefined;
  } catch {
    return undefined;
  }
}

/** How many recent tags a signer keeps (a few hundred bytes each). */
const REMEMBERED_TAGS = 4096;

export class Signer {
  /** HMAC-SHA-256 under the secret: node:crypto's where the runtime has it, Web Crypto's otherwise. */
  readonly #hmac: (data: Uint8Array<ArrayBuffer>) => Uint8Array | Promise<Uint8Array>;
  /**
   * Recent tags, least recently used first. The same few inputs come back
   * with every status check (a binding's name, its MAC, the user's tag), and
   * a Web Crypto HMAC is a job on another thread that costs far more than
   * the request's own work; a tag is a pure function of its input, so a
   * remembered one is the same answer.
   */
  readonly #recent = new Map<string, Promise<string>>();

  /** `subtle`: this Web Crypto, even where `node:crypto` is at hand. */
  constructor(secret: string, subtle?: SubtleCrypto) {
    const raw = encoder.encode(secret);
    const node = subtle ? undefined : nodeCrypto();
    if (node) {
      this.#hmac = (data) => node.createHmac('sha256', raw).update(data).digest();
    } else {
      const web = subtle ?? globalThis.crypto.subtle;
      const key = web.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      this.#hmac = async (data) => new Uint8Array(await web.sign('HMAC', await key, data));
    }
  }

  /** HMAC-SHA-256 of `parts` for `domain`, truncated to `bytes`, base64url. */
  tag(domain: string, parts: readonly string[], bytes = 32): Promise<string> {
    const key = `${bytes}:${domain}:${parts.map((part) => `${part.length}:${part}`).join('')}`;
    let tag = this.#recent.get(key);
    if (tag === undefined) {
      tag = this.#compute(domain, parts, bytes);
      tag.catch(() => this.#recent.delete(key));
      if (this.#recent.size >= REMEMBERED_TAGS) this.#recent.delete(this.#recent.keys().next().value!);
    } else {
      this.#recent.delete(key);
    }
    this.#recent.set(key, tag);
    return tag;
  }

  async #compute(domain: string, parts: readonly string[], bytes: number): Promise<string> {
    const mac = await this.#hmac(frame(domain, parts));
    return base64url(mac.subarray(0, bytes));
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
