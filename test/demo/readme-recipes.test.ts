// The README's recipes are the files in demo/recipes (which tests run): every block marked
// <!-- recipe: demo/recipes/FILE --> must be that file's readme region, to the character.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';

/** The lines between `#region readme` and `#endregion readme`, without their common indentation. */
function region(source: string, file: string): string {
  const lines = source.split('\n');
  const start = lines.findIndex((line) => line.includes('#region readme'));
  const end = lines.findIndex((line) => line.includes('#endregion readme'));
  assert.ok(start >= 0 && end > start, `${file} has a readme region`);
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length));
  return body
    .map((l) => l.slice(indent))
    .join('\n')
    .trim();
}

void describe('README recipes', async () => {
  const readme = await readFile('README.md', 'utf8');
  const marked = [...readme.matchAll(/<!-- recipe: (\S+) -->\n```\w*\n([\s\S]*?)\n```/g)];

  void it('quotes at least the plain HTML, React, Vue, kiosk, server, Next.js, CSP and back-channel logout recipes', () => {
    const files = marked.map((m) => m[1]);
    for (const name of [
      'plain.html',
      'react.jsx',
      'vue.vue',
      'vue-compiler-options.js',
      'kiosk.html',
      'node-server.js',
      'express-server.js',
      'react-wrapper.jsx',
      'hono-server.js',
      'fastify-server.js',
      'next/lib/widget-proxy.js',
      'next/app/api/widget-sessions/[[...path]]/route.js',
      'next/app/logout/route.js',
      'content-security-policy.js',
      'back-channel-logout.js',
      'back-channel-logout-node.js',
      'back-channel-logout-express.js',
      'back-channel-logout-hono.js',
      'back-channel-logout-fastify.js',
      'next/app/backchannel-logout/route.js',
    ]) {
      assert.ok(files.includes(`demo/recipes/${name}`), `README quotes demo/recipes/${name}`);
    }
  });

  for (const [, file, block] of marked) {
    void it(`quotes ${file} exactly`, async () => {
      assert.equal(block.trim(), region(await readFile(file, 'utf8'), file));
    });
  }
});
