// Recipe: Next.js App Router, the site's logout route.
import { signOut } from '../../../site.js';
import { proxy } from '../../lib/widget-proxy.js';

// #region readme
// app/logout/route.js
export async function POST(request) {
  // POST only, and only from your own pages: another site cannot sign your users out.
  if (!proxy.isSameOrigin(request)) return new Response(null, { status: 403 });
  // Ends the user's widget sessions even when the page's JavaScript never ran.
  const { setCookie } = await proxy.endSessions(request);
  const headers = new Headers({ Location: '/' });
  for (const cookie of [...setCookie, ...signOut()]) headers.append('Set-Cookie', cookie);
  return new Response(null, { status: 303, headers });
}
// #endregion readme
