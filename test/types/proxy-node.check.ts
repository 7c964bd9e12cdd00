// The proxy on Node: node:http and Express.
import { createServer } from 'node:http';
import express from 'express';
import {
  createWidgetSessionProxy,
  incomingMessageOf,
  toFetchRequest,
  toNodeListener,
  type EndSessionsResult,
  type WidgetSessionProxy,
} from 'konpro-widget-guard/proxy';
import { expectType, type Equal } from './expect.js';

const proxy = createWidgetSessionProxy({
  apiKey: 'k',
  secret: 's'.repeat(32),
  agenticAvatarId: 'a',
  allowedOrigins: ['https://www.example.com'],
  authorize: (request) =>
    incomingMessageOf<import('node:http').IncomingMessage & { user?: { id: string } }>(request)?.user?.id ?? null,
  widgetUrl: (session) => `https://widget.example/?s=${session.session_id}`,
});
expectType<Equal<typeof proxy, WidgetSessionProxy>>();
expectType<Equal<ReturnType<typeof proxy>, Promise<Response>>>();

createServer(toNodeListener(proxy)).listen(0);
const app = express();
app.use(toNodeListener(proxy));
app.post('/logout', async (req, res) => {
  const request = toFetchRequest(req);
  expectType<Equal<ReturnType<typeof proxy.isSameOrigin>, boolean>>();
  if (!proxy.isSameOrigin(request)) return res.sendStatus(403);
  const result = await proxy.endSessions(request);
  expectType<Equal<typeof result, EndSessionsResult>>();
  res.append('Set-Cookie', result.setCookie).redirect(303, '/');
});
