// The proxy over real HTTP in each framework the README shows, wired as its recipe wires it
// (demo/recipes/*-server.js), all held to one contract (support/adapter-contract.ts).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { toFetchRequest, toNodeListener, type WidgetSessionProxy } from '../../src/proxy/index.js';
import { adapterContract, REST_OF_THE_APP, type MountedSite } from './support/adapter-contract.js';
import { fakeVendorForFile } from './support/harness.js';

const vendor = fakeVendorForFile();
const SIGN_OUT = 'site_user=; Max-Age=0; Path=/';

/** A node:http server (Express's and Hono's are too) listening on loopback, closed with its connections. */
async function listening(server: Server): Promise<MountedSite> {
  if (!server.listening) await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

adapterContract(
  'node:http (toNodeListener)',
  (proxy: WidgetSessionProxy) => {
    const listener = toNodeListener(proxy);
    const server = createServer((req, res) => {
      if (proxy.handles(req.url ?? '/')) return listener(req, res);
      if (req.method === 'POST' && req.url === '/logout') {
        void proxy.endSessions(toFetchRequest(req)).then(({ setCookie }) => {
          res.setHeader('set-cookie', [...setCookie, SIGN_OUT]);
          res.writeHead(303, { location: '/' }).end();
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(REST_OF_THE_APP);
    });
    return listening(server.listen(0, '127.0.0.1'));
  },
  vendor,
);

adapterContract(
  'Express 5 (toNodeListener as middleware)',
  (proxy) => {
    const app = express();
    app.use(toNodeListener(proxy));
    app.post('/logout', async (req, res) => {
      const { setCookie } = await proxy.endSessions(toFetchRequest(req));
      res.append('Set-Cookie', [...setCookie, SIGN_OUT]);
      res.redirect(303, '/');
    });
    app.use((_req, res) => {
      res.type('text/plain').send(REST_OF_THE_APP);
    });
    return listening(app.listen(0, '127.0.0.1'));
  },
  vendor,
);

adapterContract(
  'Hono over @hono/node-server (the Request as it is)',
  (proxy) => {
    const app = new Hono();
    app.all(proxy.basePath, (c) => proxy(c.req.raw));
    app.all(`${proxy.basePath}/*`, (c) => proxy(c.req.raw));
    app.post('/logout', async (c) => {
      const { setCookie } = await proxy.endSessions(c.req.raw);
      for (const cookie of [...setCookie, SIGN_OUT]) c.header('Set-Cookie', cookie, { append: true });
      return c.redirect('/', 303);
    });
    app.notFound((c) => c.text(REST_OF_THE_APP));
    return listening(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server);
  },
  vendor,
);

adapterContract(
  'Fastify 5 (toFetchRequest, the Response sent as it is)',
  async (proxy) => {
    const app = Fastify();
    const widgetSessions = (request: { raw: Parameters<typeof toFetchRequest>[0] }) =>
      proxy(toFetchRequest(request.raw));
    app.all(proxy.basePath, widgetSessions);
    app.all(`${proxy.basePath}/*`, widgetSessions);
    app.post('/logout', async (request, reply) => {
      const { setCookie } = await proxy.endSessions(toFetchRequest(request.raw));
      return reply.header('Set-Cookie', [...setCookie, SIGN_OUT]).redirect('/', 303);
    });
    app.setNotFoundHandler((_request, reply) => reply.type('text/plain').send(REST_OF_THE_APP));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const site = await listening(app.server);
    return { url: site.url, close: () => app.close() };
  },
  vendor,
);
