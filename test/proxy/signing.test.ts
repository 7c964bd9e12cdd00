import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Signer } from '../../src/proxy/signing.js';

const SECRET = 'a-secret-of-enough-length-for-the-proxy-0123';

/** Web Crypto that counts its HMAC signatures. */
function countingSubtle(): { subtle: SubtleCrypto; signs: () => number } {
  let count = 0;
  const subtle = globalThis.crypto.subtle;
  const counting = Object.create(subtle) as SubtleCrypto;
  counting.importKey = subtle.importKey.bind(subtle);
  counting.sign = (...args: Parameters<SubtleCrypto['sign']>) => {
    count += 1;
    return subtle.sign(...args);
  };
  return { subtle: counting, signs: () => count };
}

void describe('Signer', () => {
  void it('gives the same tag for the same input, and different tags across domains, parts and lengths', async () => {
    const signer = new Signer(SECRET);
    const a = await signer.tag('binding', ['s_1', 'u']);
    assert.equal(await signer.tag('binding', ['s_1', 'u']), a);
    assert.equal(await new Signer(SECRET).tag('binding', ['s_1', 'u']), a, 'any instance with the secret agrees');
    assert.notEqual(await signer.tag('binding-retired', ['s_1', 'u']), a);
    assert.notEqual(await signer.tag('binding', ['s_1u']), a, 'parts are length-prefixed');
    assert.notEqual(await signer.tag('binding', ['s_1', 'u'], 12), a);
    assert.notEqual(await new Signer(`${SECRET}x`).tag('binding', ['s_1', 'u']), a);
  });

  void it('gives the same tags with node:crypto (the default on Node) as with Web Crypto', async () => {
    const node = new Signer(SECRET);
    const web = new Signer(SECRET, globalThis.crypto.subtle);
    const inputs: Array<[string, string[], number?]> = [
      ['binding', ['s_1', 'u']],
      ['binding-name', ['s_1'], 12],
      ['log-session', ['s_ü_✓', ''], 12],
      ['d', [], 32],
    ];
    for (const [domain, parts, bytes] of inputs)
      assert.equal(
        await node.tag(domain, parts, bytes),
        await web.tag(domain, parts, bytes),
        `tag for ${domain} ${JSON.stringify(parts)} differs between node:crypto and Web Crypto`,
      );
  });

  void it('computes a repeated tag once (a status check asks for the same ones every time)', async () => {
    const { subtle, signs } = countingSubtle();
    const signer = new Signer(SECRET, subtle);
    const first = await Promise.all([signer.tag('log-session', ['s_1'], 12), signer.tag('log-session', ['s_1'], 12)]);
    for (let i = 0; i < 10; i++) assert.equal(await signer.tag('log-session', ['s_1'], 12), first[0]);
    assert.equal(signs(), 1);
    await signer.tag('log-session', ['s_2'], 12);
    assert.equal(signs(), 2);
  });

  void it('forgets the least recently used tags beyond its bound', async () => {
    const { subtle, signs } = countingSubtle();
    const signer = new Signer(SECRET, subtle);
    await signer.tag('d', ['kept']);
    for (let i = 0; i < 5000; i++) {
      await signer.tag('d', [`n${i}`]);
      if (i % 1000 === 0) await signer.tag('d', ['kept']); // used again: stays
    }
    const before = signs();
    await signer.tag('d', ['kept']);
    assert.equal(signs(), before, 'recently used: still remembered');
    await signer.tag('d', ['n0']);
    assert.equal(signs(), before + 1, 'least recently used: forgotten');
  });
});
