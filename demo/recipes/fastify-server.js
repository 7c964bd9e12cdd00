// Recipe: the proxy and a server-side logout route in Fastify 5.
import { currentUser, signOut } from './site.js';

// #region readme
import Fastify from 'fastify';
import { createWidgetSessionProxy, toFetchRequest } from 'konpro-widget-guard/proxy';

const proxy = createWidgetSessionProxy({
  apiKey: process.env.KONPRO_API_KEY,
  secret: process.env.WIDGET_PROXY_SECRET,
  agenticAvatarId: process.env.KONPRO_AVATAR_ID,
  baseUrl: process.env.KONPRO_API_BASE,
  allowedOrigins: [process.env.SITE_ORIGIN],
  authorize: async (request) => (await currentUser(request))?.id ?? null,
  widgetUrl: (session) => `https://widget.konpro.ai/embed?session=${session.session_id}`,
});

const app = Fastify();
// Fastify 5 sends a Fetch-API Response as it is (status, every header, body).
const widgetSessions = (request) => proxy(toFetchRequest(request.raw));
app.all('/api/widget-sessions', widgetSessions);
app.all('/api/widget-sessions/*', widgetSessions);
app.post('/logout', async (request, reply) => {
  const fetchRequest = toFetchRequest(request.raw);
  // POST only, and only from your own pages: another site cannot sign your users out.
  if (!proxy.isSameOrigin(fetchRequest)) return reply.code(403).send();
  const { setCookie } = await proxy.endSessions(fetchRequest);
  return reply.header('Set-Cookie', [...setCookie, ...signOut()]).redirect('/', 303);
});
await app.listen({ port: Number(process.env.PORT ?? 8000), host: process.env.HOST ?? '127.0.0.1' });
export const server = app.server;
// #endregion readme
