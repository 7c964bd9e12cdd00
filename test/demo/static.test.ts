// Static files of the widget and the console: types, headers, redirects,
// and no way out of their directories.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sendNotFound, serveFile } from '../../demo/static.js';
import type { RunningSimulator } from './helpers.js';
import { call, rawRequest, startSimulator } from './helpers.js';

let sim: RunningSimulator;
before(async () => {
  sim = await startSimulator();
});
after(() => sim.close());

void describe('static files', () => {
  void it('serves the widget and console files with their content types, uncached', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/konpro/widget/', /^text\/html/],
      ['/konpro/widget/widget.html', /^text\/html/],
      ['/konpro/widget/widget.js', /^text\/javascript/],
      ['/konpro/widget/embed.js', /^text\/javascript/],
      ['/konpro/widget/konpro-avatar.js', /^text\/javascript/],
      ['/konpro/widget/avatar-view.js', /^text\/javascript/],
      ['/konpro/widget/runtime-client.js', /^text\/javascript/],
      ['/konpro/widget/microphone.js', /^text\/javascript/],
      ['/konpro/console/', /^text\/html/],
      ['/konpro/console/console.js', /^text\/javascript/],
      ['/konpro/console/console.css', /^text\/css/],
    ];
    for (const [path, type] of cases) {
      const answer = await call(`${sim.origin}${path}`);
      assert.equal(answer.status, 200, path);
      assert.match(answer.headers.get('content-type') ?? '', type, path);
      assert.equal(answer.headers.get('cache-control'), 'no-store', path);
      assert.equal(answer.headers.get('x-content-type-options'), 'nosniff', path);
    }
  });

  void it('lets any origin load the widget (embed module graph, cross-origin iframe)', async () => {
    const answer = await call(`${sim.origin}/konpro/widget/embed.js`);
    assert.equal(answer.headers.get('access-control-allow-origin'), '*');
    assert.equal(answer.headers.get('referrer-policy'), 'no-referrer');
  });

  void it('keeps the console to itself', async () => {
    const answer = await call(`${sim.origin}/konpro/console/`);
    assert.match(answer.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(answer.headers.get('access-control-allow-origin'), null);
  });

  void it('redirects the bare page URLs to their directories, keeping the query', async () => {
    const widget = await call(`${sim.origin}/konpro/widget?session_id=ws_1`);
    assert.equal(widget.status, 302);
    assert.equal(widget.headers.get('location'), '/konpro/widget/?session_id=ws_1');
    assert.equal((await call(`${sim.origin}/konpro/console`)).headers.get('location'), '/konpro/console/');
    assert.equal((await call(`${sim.origin}/konpro/`)).headers.get('location'), '/konpro/console/');
    assert.equal((await call(`${sim.origin}/konpro`)).headers.get('location'), '/konpro/console/');
  });

  void it('answers HEAD without a body and refuses other methods', async () => {
    const head = await rawRequest(sim.origin, 'HEAD', '/konpro/widget/embed.js');
    assert.ok(!('error' in head), 'the HEAD request got no HTTP answer at all');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    const put = await rawRequest(sim.origin, 'PUT', '/konpro/widget/embed.js', {}, 'x');
    assert.ok(!('error' in put), 'the PUT request got no HTTP answer at all');
    assert.equal(put.status, 405);
  });

  void it('refuses every way out of the directory', async () => {
    const attempts = [
      '/konpro/widget/../../package.json',
      '/konpro/widget/../simulator/index.ts',
      '/konpro/widget/..%2f..%2fpackage.json',
      '/konpro/widget/%2e%2e/%2e%2e/package.json',
      '/konpro/widget/%2E%2E%2F%2E%2E%2Fpackage.json',
      '/konpro/widget/..%5c..%5cpackage.json',
      '/konpro/widget/....//....//package.json',
      '/konpro/widget//etc/passwd',
      '/konpro/widget/%2fetc%2fpasswd',
      '/konpro/console/../../tsconfig.json',
      '/konpro/console/..%2F..%2Ftsconfig.json',
      '/konpro/widget/embed.js%00.html',
      '/konpro/widget/.gitignore',
      '/konpro/widget/%zz.js',
      '/konpro/widget/../widget/embed.js',
    ];
    for (const path of attempts) {
      const answer = await rawRequest(sim.origin, 'GET', path);
      assert.ok(!('error' in answer), path);
      assert.equal(answer.status, 404, path);
      assert.doesNotMatch(answer.text, /"name"|compilerOptions|root:|import /, path);
    }
  });

  void it('serves only regular files of known types, never through a symlink out', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'konpro-static-'));
    const outside = mkdtempSync(join(tmpdir(), 'konpro-outside-'));
    t.after(() => {
      rmSync(root, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    });
    writeFileSync(join(root, 'ok.js'), 'export {};');
    writeFileSync(join(root, 'secret.ts'), 'const key = 1;');
    writeFileSync(join(outside, 'leak.js'), 'leaked');
    symlinkSync(join(outside, 'leak.js'), join(root, 'link.js'));
    mkdirSync(join(root, 'dir.js'));
    const server = createServer((req, res) => {
      void serveFile(req, res, root, (req.url ?? '').slice(1)).then((served) => {
        if (!served) sendNotFound(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    assert.equal((await call(`${origin}/ok.js`)).status, 200);
    for (const path of ['/secret.ts', '/link.js', '/dir.js', '/missing.js']) {
      const answer = await rawRequest(origin, 'GET', path);
      assert.ok(!('error' in answer) && answer.status === 404, path);
    }
  });
});

void describe('browser code', () => {
  void it('never contains an API key header', () => {
    for (const dir of ['widget', 'console']) {
      const root = new URL(`../../demo/${dir}/`, import.meta.url);
      for (const name of readdirSync(root)) {
        const text = readFileSync(new URL(name, root), 'utf8');
        assert.doesNotMatch(text, /x-api-key/i, `demo/${dir}/${name}`);
      }
    }
  });
});
