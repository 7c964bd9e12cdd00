import { expect } from '@esm-bundle/chai';
import { isValidSessionId, sessionResourceUrl } from '../../src/shared/session-id.js';

describe('session ids', () => {
  it('accepts 1–128 characters of A-Z a-z 0-9 _ -', () => {
    expect(isValidSessionId('a')).to.equal(true);
    expect(isValidSessionId('x'.repeat(128))).to.equal(true);
    expect(isValidSessionId('session-789_AZ')).to.equal(true);
  });
  it('refuses anything else', () => {
    for (const bad of ['', 'x'.repeat(129), 'a/b', '../x', 'a b', 'a?b', 'é', 'a%2F', null, 42]) {
      expect(isValidSessionId(bad), String(bad)).to.equal(false);
    }
  });
  it('builds a session URL under a collection', () => {
    expect(sessionResourceUrl('https://x.test/api/widget-sessions', 'abc')).to.equal(
      'https://x.test/api/widget-sessions/abc',
    );
    expect(sessionResourceUrl('https://x.test/api/widget-sessions/', 'abc')).to.equal(
      'https://x.test/api/widget-sessions/abc',
    );
    expect(() => sessionResourceUrl('https://x.test/api', '../x')).to.throw(/only contain/);
  });
});
