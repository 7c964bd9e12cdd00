// Recipe: Next.js App Router, the proxy's routes (an optional catch-all: the collection and each session).
import { proxy } from '../../../../lib/widget-proxy.js';

// #region readme
// app/api/widget-sessions/[[...path]]/route.js
export const dynamic = 'force-dynamic'; // every answer is for one user: never cached

const widgetSessions = (request) => proxy(request);
export { widgetSessions as GET, widgetSessions as POST, widgetSessions as DELETE, widgetSessions as OPTIONS };
// #endregion readme
