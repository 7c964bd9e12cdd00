// Recipe: Next.js App Router, the proxy shared by its two route handlers.
import { currentUser } from '../../site.js';

// #region readme
// lib/widget-proxy.js
import { createWidgetSessionProxy } from 'konpro-widget-guard/proxy';

export const proxy = createWidgetSessionProxy({
  apiKey: process.env.KONPRO_API_KEY,
  secret: process.env.WIDGET_PROXY_SECRET,
  agenticAvatarId: process.env.KONPRO_AVATAR_ID,
  baseUrl: process.env.KONPRO_API_BASE,
  allowedOrigins: [process.env.SITE_ORIGIN],
  authorize: async (request) => (await currentUser(request))?.id ?? null,
  widgetUrl: (session) => `https://widget.konpro.ai/embed?session=${session.session_id}`,
});
// #endregion readme
