/**
 * What the guard's attributes mean, resolved once per use, and how the guard
 * says something is wrong with them. Attribute changes never throw: an
 * unusable value is reported (`konpro-guard-error`, each message once) and
 * replaced by its default, or leaves the feature off.
 */
import { dispatch, type GuardErrorCode } from './events.js';
import { DEFAULT_STRINGS, type GuardStrings } from './strings.js';
import type { KonproWidgetGuard } from './konpro-widget-guard.js';

/** Prefix watched by default besides the proxy: the vendor's API. */
export const VENDOR_API_PREFIX = 'https://api.konpro.ai/';

export type WidgetLocation = { url?: string; origin?: string } | { error: string; code: GuardErrorCode };

/** One guard's configuration, read from its properties each time (they may change at any moment). */
export class GuardConfig {
  /** Misconfigurations already reported, so each is reported once. */
  readonly #reported = new Set<string>();

  constructor(readonly host: KonproWidgetGuard) {}

  /** Reports a problem as an event; `once`: the same message only the first time. */
  error(code: GuardErrorCode, message: string, once: boolean): void {
    const key = `${code}:${message}`;
    if (once && this.#reported.has(key)) return;
    this.#reported.add(key);
    dispatch(this.host, 'konpro-guard-error', { code, message });
  }

  strings(): GuardStrings {
    return { ...DEFAULT_STRINGS, ...this.host.strings };
  }

  /** Says `text` through the guard's live region. */
  announce(text: string): void {
    const region = this.host.renderRoot.querySelector('[role="status"]');
    if (!region) return;
    // Cleared first so the same text is announced again for a later session.
    region.textContent = '';
    region.textContent = text;
  }

  /**
   * Absolute proxy collection URL, or undefined (reported through `report`)
   * when missing (not reported if `quiet`) or unusable. `() => {}` as
   * `report` only looks.
   */
  proxyUrl(quiet = false, report: GuardConfig['error'] = (...args) => this.error(...args)): string | undefined {
    const value = this.host.proxy?.trim();
    if (!value) {
      if (!quiet) report('missing-proxy', 'the proxy attribute is not set: no session can be started or deleted', true);
      return undefined;
    }
    let url: URL;
    try {
      url = new URL(value, document.baseURI);
    } catch {
      report('invalid-proxy', `proxy is not a URL: ${value}`, true);
      return undefined;
    }
    if (url.origin !== location.origin) {
      // Credentials are same-origin: a proxy elsewhere would not know the user.
      report('invalid-proxy', `proxy must be on this page's origin (${location.origin}), not ${url.origin}`, true);
      return undefined;
    }
    url.hash = '';
    return url.href;
  }

  watchPrefixes(): string[] {
    const proxy = this.proxyUrl(true);
    const watch = this.host.watch;
    if (watch === null || watch.trim() === '') return proxy ? [VENDOR_API_PREFIX, proxy] : [VENDOR_API_PREFIX];
    const prefixes: string[] = [];
    for (const part of watch.trim().split(/\s+/)) {
      try {
        prefixes.push(new URL(part, document.baseURI).href);
      } catch {
        this.error('invalid-watch', `watch has an entry that is not a URL: ${part}`, true);
      }
    }
    return prefixes;
  }

  /** A number-of-seconds attribute: `fallback` when unset, and (reported) when not a number ≥ 0. */
  seconds(value: number | null, fallback: number, attribute: string): number {
    if (value === null) return fallback;
    if (!Number.isFinite(value) || value < 0) {
      this.error(
        'invalid-number',
        `${attribute} must be a number of seconds ≥ 0, got ${String(value)}; using ${fallback}`,
        true,
      );
      return fallback;
    }
    return value;
  }

  /**
   * Where the widget comes from: a frame URL (and the origin to trust), or the default slot.
   * `startedUrl`: the widget URL the proxy gave with a session it started.
   */
  widgetLocation(sessionId: string, startedUrl: string | undefined): WidgetLocation {
    const { host } = this;
    // The host's own choice wins: its widget-src, then its widget markup (or template) in the
    // default slot; only then the widget URL the proxy gave with a started session.
    const hostMarkup = [...host.children].some((el) => el.slot === '');
    const template = host.widgetSrc ?? (hostMarkup ? undefined : startedUrl);
    let origin: string | undefined;
    if (host.widgetOrigin) {
      origin = parseOrigin(host.widgetOrigin);
      if (!origin)
        return { code: 'invalid-widget-origin', error: `widget-origin is not an origin: ${host.widgetOrigin}` };
    }
    if (!template) return origin ? { origin } : {};
    let url: URL;
    try {
      // Session ids are validated: they cannot add a path, query or scheme.
      url = new URL(template.replaceAll('{session_id}', sessionId), document.baseURI);
    } catch {
      return { code: 'invalid-widget-src', error: `widget-src is not a URL: ${template}` };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      return { code: 'invalid-widget-src', error: `widget-src must be an http(s) URL, not ${url.protocol}` };
    }
    return { url: url.href, origin: origin ?? url.origin };
  }
}

function parseOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    const origin = url.origin;
    return origin !== 'null' && value.replace(/\/$/, '') === origin ? origin : undefined;
  } catch {
    return undefined;
  }
}
