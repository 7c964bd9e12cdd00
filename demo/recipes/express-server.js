// Recipe: the proxy and a server-side logout route in Express.
import { siteSession, signOut } from './site.js';

// #region readme
import express from 'express';
import { createWidgetSessionProxy, incomingMessageOf, toFetchRequest, toNodeListener } from 'konpro-widget-guard/proxy';

const proxy = createWidgetSessionProxy({
  apiKey: process.env.KONPRO_API_KEY,
  secret: process.env.WIDGET_PROXY_SECRET,
  agenticAvatarId: process.env.KONPRO_AVATAR_ID,
  baseUrl: process.env.KONPRO_API_BASE,
  allowedOrigins: [process.env.SITE_ORIGIN],
  // Your session middleware put the user on `req`; the proxy hands you that `req` back.
  authorize: (request) => incomingMessageOf(request)?.user?.id ?? null,
  widgetUrl: (session) => `https://widget.konpro.ai/embed?session=${session.session_id}`,
});

const app = express();
app.use(siteSession); // your session middleware
app.use(toNodeListener(proxy)); // answers under /api/widget-sessions, calls next() for everything else
app.post('/logout', async (req, res) => {
  const request = toFetchRequest(req);
  if (!proxy.isSameOrigin(request)) return res.sendStatus(403); // only your own pages may sign out
  const { setCookie } = await proxy.endSessions(request);
  res.append('Set-Cookie', [...setCookie, ...signOut(req)]);
  res.redirect(303, '/');
});
export const server = app.listen(Number(process.env.PORT ?? 8000));
// #endregion readme
