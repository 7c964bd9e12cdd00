// Recipe: Next.js App Router, the back-channel logout URI (the endpoint of back-channel-logout.js in lib/).
import { backChannelLogout } from '../../../back-channel-logout.js';

// #region readme
// app/backchannel-logout/route.js
export const dynamic = 'force-dynamic';

export const POST = (request) => backChannelLogout(request);
// #endregion readme
