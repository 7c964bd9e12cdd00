// Recipe: the proxy and the back-channel logout URI in Fastify 5.
import { backChannelLogout } from './back-channel-logout.js';
import { proxy } from './next/lib/widget-proxy.js';

// #region readme
import Fastify from 'fastify';
import { toFetchRequest } from 'konpro-widget-guard/proxy';

const app = Fastify();
const widgetSessions = (request) => proxy(toFetchRequest(request.raw));
app.all('/api/widget-sessions', widgetSessions);
app.all('/api/widget-sessions/*', widgetSessions);
// In a scope of its own, so the rest of your app keeps answering 415 to a form nobody parses.
app.register(async (scope) => {
  // Fastify answers 415 to a body it has no parser for. This one reads nothing: the handler reads the form.
  scope.addContentTypeParser('application/x-www-form-urlencoded', (request, body, done) => done(null));
  scope.post('/backchannel-logout', (request) => backChannelLogout(toFetchRequest(request.raw, { body: true })));
});
await app.listen({ port: Number(process.env.PORT ?? 8000), host: process.env.HOST ?? '127.0.0.1' });
export const server = app.server;
// #endregion readme
