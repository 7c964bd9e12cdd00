// Recipe: the proxy and a server-side logout route in Hono, on Node through @hono/node-server.
import { currentUser, signOut } from './site.js';

// #region readme
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { createWidgetSessionProxy } from 'konpro-widget-guard/proxy';

const proxy = createWidgetSessionProxy({
  apiKey: process.env.KONPRO_API_KEY,
  secret: process.env.WIDGET_PROXY_SECRET,
  agenticAvatarId: process.env.KONPRO_AVATAR_ID,
  baseUrl: process.env.KONPRO_API_BASE,
  allowedOrigins: [process.env.SITE_ORIGIN],
  authorize: async (request) => (await currentUser(request))?.id ?? null,
  widgetUrl: (session) => `https://widget.konpro.ai/embed?session=${session.session_id}`,
});

const app = new Hono();
// The proxy is a Fetch-API handler: Hono's own Request goes straight in, its Response straight out.
app.all('/api/widget-sessions', (c) => proxy(c.req.raw));
app.all('/api/widget-sessions/*', (c) => proxy(c.req.raw));
app.post('/logout', async (c) => {
  // POST only, and only from your own pages: another site cannot sign your users out.
  if (!proxy.isSameOrigin(c.req.raw)) return c.body(null, 403);
  const { setCookie } = await proxy.endSessions(c.req.raw);
  for (const cookie of [...setCookie, ...signOut()]) c.header('Set-Cookie', cookie, { append: true });
  return c.redirect('/', 303);
});
export const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 8000) });
// #endregion readme
