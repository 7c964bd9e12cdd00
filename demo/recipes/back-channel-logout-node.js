// Recipe: the proxy and the back-channel logout URI on plain node:http.
import { backChannelLogout } from './back-channel-logout.js';
import { proxy } from './next/lib/widget-proxy.js';
import { site } from './site.js';

// #region readme
import { createServer } from 'node:http';
import { toNodeListener } from 'konpro-widget-guard/proxy';

const proxyListener = toNodeListener(proxy);
const backChannelLogoutListener = toNodeListener(backChannelLogout); // this one reads the request body

export const server = createServer((req, res) => {
  if (proxy.handles(req.url ?? '/')) return proxyListener(req, res);
  // The URI you register at the provider. No cookies, no Origin: the signed token is the proof.
  if (req.url === '/backchannel-logout') return backChannelLogoutListener(req, res);
  site(req, res);
}).listen(Number(process.env.PORT ?? 8000));
// #endregion readme
