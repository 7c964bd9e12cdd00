/**
 * What the demo runs against, from the environment. With `KONPRO_API_BASE`
 * unset the in-process simulator is the vendor; with it set (and a real key,
 * avatar and widget URL) the same demo talks to the real service.
 */
import { randomBytes } from 'node:crypto';

export interface DemoEnv {
  [name: string]: string | undefined;
}

/** Who answers the proxy's vendor calls. */
export type Vendor =
  | {
      kind: 'simulator';
      /** `undefined`: the simulator generates a dev key. */
      apiKey: string | undefined;
      /** Template with `{session_id}`; `undefined`: the simulator's own widget page. */
      widgetUrlTemplate: string | undefined;
    }
  | { kind: 'konpro'; apiBase: string; apiKey: string; widgetUrlTemplate: string };

export interface DemoConfig {
  vendor: Vendor;
  avatarId: string;
  /** Seconds until the vendor expires a session. */
  maxDuration: number;
  /** Signs the site's cookies and the proxy's bindings. */
  secret: string;
  /** Origins allowed besides the server's own loopback ones. */
  extraOrigins: string[];
  /** `REDIS_URL`: the proxy's store is Redis, shared with every demo process on it; unset: in memory. */
  redis: { url: string; prefix: string } | undefined;
}

/** Reads the environment; throws an `Error` whose message says what to set. */
export function readConfig(env: DemoEnv): DemoConfig {
  const apiBase = nonEmpty(env.KONPRO_API_BASE)?.replace(/\/+$/, '');
  const apiKey = nonEmpty(env.KONPRO_API_KEY);
  const widgetUrlTemplate = nonEmpty(env.KONPRO_WIDGET_URL);
  let vendor: Vendor = { kind: 'simulator', apiKey, widgetUrlTemplate };
  if (apiBase !== undefined) {
    if (apiKey === undefined || env.KONPRO_AVATAR_ID === undefined || widgetUrlTemplate === undefined) {
      const missing = [
        apiKey === undefined && 'KONPRO_API_KEY (your Konpro API key)',
        env.KONPRO_AVATAR_ID === undefined && 'KONPRO_AVATAR_ID (the agentic avatar to create sessions for)',
        widgetUrlTemplate === undefined &&
          'KONPRO_WIDGET_URL (the widget page URL, with {session_id} where the session id goes)',
      ].filter((item) => item !== false);
      throw new Error(`KONPRO_API_BASE is set, so the demo uses the real service and needs ${missing.join(', ')}.`);
    }
    if (!URL.canParse(apiBase))
      throw new Error(`KONPRO_API_BASE must be a URL such as https://api.konpro.ai, got ${apiBase}`);
    vendor = { kind: 'konpro', apiBase, apiKey, widgetUrlTemplate };
  }
  if (widgetUrlTemplate !== undefined && !widgetUrlTemplate.includes('{session_id}')) {
    throw new Error(
      'KONPRO_WIDGET_URL must contain {session_id}, e.g. https://widget.example/?session_id={session_id}',
    );
  }
  const maxDuration = Number(env.DEMO_MAX_DURATION ?? 3600);
  if (!Number.isInteger(maxDuration) || maxDuration < 1 || maxDuration > 86_400) {
    throw new Error(`DEMO_MAX_DURATION must be whole seconds from 1 to 86400, got ${env.DEMO_MAX_DURATION}`);
  }
  const secret = nonEmpty(env.DEMO_SECRET) ?? randomBytes(32).toString('base64url');
  if (secret.length < 32)
    throw new Error('DEMO_SECRET must be at least 32 characters (e.g. `openssl rand -base64 32`).');
  const extraOrigins = (env.DEMO_ORIGINS ?? '').split(/[\s,]+/).filter((origin) => origin !== '');
  for (const origin of extraOrigins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin)
      throw new Error(`DEMO_ORIGINS entries must be exact origins like https://demo.example, got ${origin}`);
  }
  const redisUrl = nonEmpty(env.REDIS_URL);
  if (redisUrl !== undefined && !/^rediss?:\/\/./.test(redisUrl))
    throw new Error('REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379');
  return {
    vendor,
    avatarId: nonEmpty(env.KONPRO_AVATAR_ID) ?? 'avatar_demo',
    maxDuration,
    secret,
    extraOrigins,
    redis: redisUrl === undefined ? undefined : { url: redisUrl, prefix: nonEmpty(env.REDIS_PREFIX) ?? 'kwg-demo:' },
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === '' ? undefined : trimmed;
}
