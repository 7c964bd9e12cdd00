/**
 * The demo's pages and their files. Pages are static HTML with a few
 * `{{name}}` placeholders for what depends on the configuration (which
 * vendor, which widget); everything runs from files under a strict
 * Content-Security-Policy: no inline script or style anywhere.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { serveFile } from '../static.js';

const PAGES_DIR = fileURLToPath(new URL('./pages/', import.meta.url));
const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));
const DIST_DIR = fileURLToPath(new URL('../../dist/', import.meta.url));
export const BUNDLE_PATH = fileURLToPath(new URL('../../dist/konpro-widget-guard.min.js', import.meta.url));

export type PageName = 'index' | 'kiosk' | 'not-found';

/** Values the pages' placeholders are filled with (HTML-escaped). */
export interface PageValues {
  [placeholder: string]: string;
}

export interface PageOptions {
  values: PageValues;
  /** Origins (besides this one) the pages may frame and call: the vendor's widget and API. */
  frameOrigins: readonly string[];
  connectOrigins: readonly string[];
}

export function contentSecurityPolicy(options: Pick<PageOptions, 'frameOrigins' | 'connectOrigins'>): string {
  const list = (origins: readonly string[]) => ["'self'", ...origins].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${list(options.connectOrigins)}`,
    `frame-src ${list(options.frameOrigins)}`,
    "media-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export async function sendPage(
  res: ServerResponse,
  name: PageName,
  options: PageOptions,
  status = 200,
  headers: Record<string, string | string[]> = {},
): Promise<void> {
  const template = await readFile(`${PAGES_DIR}${name}.html`, 'utf8');
  const html = template.replace(/\{\{(\w+)\}\}/g, (_match, key: string) => escapeHtml(options.values[key] ?? ''));
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': contentSecurityPolicy(options),
    // Pages show who is signed in: never from a cache.
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    // The widget frame may use camera and microphone (the guard's iframe asks for them), nothing else may.
    'Permissions-Policy': ['camera', 'microphone']
      .map((feature) => `${feature}=(self${options.frameOrigins.map((o) => ` "${o}"`).join('')})`)
      .join(', '),
    ...headers,
  });
  res.end(html);
}

/** `/assets/*`: the pages' scripts, styles and icon. */
export function serveAsset(req: IncomingMessage, res: ServerResponse, relative: string): Promise<boolean> {
  return serveFile(req, res, ASSETS_DIR, relative);
}

/** `/dist/*`: the built element, read-only. */
export function serveDist(req: IncomingMessage, res: ServerResponse, relative: string): Promise<boolean> {
  return serveFile(req, res, DIST_DIR, relative);
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
