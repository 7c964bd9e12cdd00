// Recipe: the proxy and the back-channel logout URI in Express.
import { backChannelLogout } from './back-channel-logout.js';
import { proxy } from './next/lib/widget-proxy.js';
import { siteSession } from './site.js';

// #region readme
import express from 'express';
import { toNodeListener } from 'konpro-widget-guard/proxy';

const app = express();
app.use(siteSession);
app.use(express.urlencoded({ extended: false })); // may come first: the form it parsed is passed on
app.use(toNodeListener(proxy));
app.post('/backchannel-logout', toNodeListener(backChannelLogout));
export const server = app.listen(Number(process.env.PORT ?? 8000));
// #endregion readme
