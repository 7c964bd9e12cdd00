// The proxy on a Fetch-API runtime (a worker, Deno, Bun, an edge function): no Node types at all.
import { createWidgetSessionProxy } from 'konpro-widget-guard/proxy';
import { expectType, type Equal } from '../expect.js';

declare const env: { KONPRO_API_KEY: string; PROXY_SECRET: string };

const proxy = createWidgetSessionProxy({
  apiKey: env.KONPRO_API_KEY,
  secret: env.PROXY_SECRET,
  agenticAvatarId: 'avatar',
  allowedOrigins: ['https://www.example.com'],
  authorize: async (request) => request.headers.get('x-user') ?? null,
  widgetUrl: (session) => `https://widget.example/?s=${session.session_id}`,
});

// A worker's fetch handler.
export default {
  async fetch(request: Request): Promise<Response> {
    if (proxy.handles(request)) return proxy(request);
    const { setCookie } = await proxy.endSessions(request);
    expectType<Equal<typeof setCookie, string[]>>();
    return new Response('ok');
  },
};
