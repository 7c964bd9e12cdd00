// Recipe: the proxy and the back-channel logout URI in Hono, on Node through @hono/node-server.
import { backChannelLogout } from './back-channel-logout.js';
import { proxy } from './next/lib/widget-proxy.js';

// #region readme
import { Hono } from 'hono';
import { serve } from '@hono/node-server';

const app = new Hono();
app.all('/api/widget-sessions', (c) => proxy(c.req.raw));
app.all('/api/widget-sessions/*', (c) => proxy(c.req.raw));
// A Fetch-API handler too: Hono's Request in, its Response out.
app.post('/backchannel-logout', (c) => backChannelLogout(c.req.raw));
export const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 8000) });
// #endregion readme
