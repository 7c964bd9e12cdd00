/**
 * Static files of the simulated widget and the console, served without a
 * framework. A URL can only name a regular file with a known extension below
 * the given directory: no `..`, no encoded separators, no hidden files, no
 * symlinks out of it. Everything is `no-store`, so a demo never runs stale
 * widget code.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { decodeSegment, type Headers } from './http.js';

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The safe path segments of an undecoded URL path below a directory, or `undefined`. */
export function safeSegments(relative: string): string[] | undefined {
  const segments: string[] = [];
  for (const raw of relative.split('/')) {
    const segment = decodeSegment(raw);
    if (segment === undefined || segment === '' || segment.startsWith('.')) return undefined;
    if (/[/\\\0:]/.test(segment)) return undefined;
    segments.push(segment);
  }
  return segments.length > 0 ? segments : undefined;
}

/**
 * Answers `GET`/`HEAD` for `relative` (undecoded, e.g. `widget.js`) from
 * `root`. Returns `false`, having sent nothing, when there is no such file.
 */
export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  relative: string,
  headers: Headers = {},
): Promise<boolean> {
  const segments = safeSegments(relative);
  const type = segments ? CONTENT_TYPES[extname(segments[segments.length - 1] ?? '')] : undefined;
  if (!segments || type === undefined) return false;
  let file: string;
  try {
    const realRoot = await realpath(root);
    file = await realpath(join(realRoot, ...segments));
    if (!file.startsWith(realRoot + sep) || !(await stat(file)).isFile()) return false;
  } catch {
    return false;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, {
      Allow: 'GET, HEAD',
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
    });
    res.end('Method not allowed\n');
    return true;
  }
  const content = await readFile(file);
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': content.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : content);
  return true;
}

export function sendNotFound(res: ServerResponse): void {
  res.writeHead(404, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end('Not found\n');
}
