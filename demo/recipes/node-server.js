// Recipe: the proxy and a server-side logout route on plain node:http.
import { currentUser, signOut, site } from './site.js';

// #region readme
import { createServer } from 'node:http';
import { createWidgetSessionProxy, toFetchRequest, toNodeListener } from 'konpro-widget-guard/proxy';

const proxy = createWidgetSessionProxy({
  apiKey: process.env.KONPRO_API_KEY,
  secret: process.env.WIDGET_PROXY_SECRET, // >= 32 characters, the same on every instance
  agenticAvatarId: process.env.KONPRO_AVATAR_ID,
  baseUrl: process.env.KONPRO_API_BASE, // unset: https://api.konpro.ai
  allowedOrigins: [process.env.SITE_ORIGIN], // e.g. https://www.example.com
  authorize: async (request) => (await currentUser(request))?.id ?? null,
  widgetUrl: (session) => `https://widget.konpro.ai/embed?session=${session.session_id}`,
});
const proxyListener = toNodeListener(proxy);

export const server = createServer(async (req, res) => {
  if (proxy.handles(req.url ?? '/')) return proxyListener(req, res);
  if (req.method === 'POST' && req.url === '/logout') {
    const request = toFetchRequest(req);
    // POST only, and only from your own pages: another site cannot sign your users out.
    if (!proxy.isSameOrigin(request)) return res.writeHead(403).end();
    // Ends the user's widget sessions even when the page's JavaScript never ran.
    const { setCookie } = await proxy.endSessions(request);
    res.setHeader('Set-Cookie', [...setCookie, ...signOut(req)]);
    return res.writeHead(303, { Location: '/' }).end();
  }
  site(req, res);
}).listen(Number(process.env.PORT ?? 8000));
// #endregion readme
