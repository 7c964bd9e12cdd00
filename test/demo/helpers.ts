// Shared by the simulator tests: a simulator on a loopback port, and HTTP
// helpers that check the vendor wire format on every answer.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { ErrorBody } from '../../src/shared/konpro-api.js';
import { isErrorBody } from '../../src/shared/konpro-api.js';
import type { KonproSimulatorOptions, RunningSimulator } from '../../demo/simulator/index.js';
import { startSimulatorServer } from '../../demo/simulator/index.js';

/** Two accounts, so ownership can be tested. */
export const KEY_A = 'kp_test_key_account_a';
export const KEY_B = 'kp_test_key_account_b';

export function startSimulator(options: KonproSimulatorOptions = {}): Promise<RunningSimulator> {
  return startSimulatorServer({ apiKeys: { [KEY_A]: 'acct_a', [KEY_B]: 'acct_b' }, devApiKey: KEY_A, ...options });
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, `undefined` when it is not JSON. Loose on purpose: assertions reach into any shape. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { redirect: 'manual', ...init });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** `init` for a JSON request with the given API key (or none). */
export function withKey(key: string | undefined, method = 'GET', body?: unknown): RequestInit {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (key !== undefined) headers['x-api-key'] = key;
  return {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  };
}

export async function createSession(
  baseUrl: string,
  key = KEY_A,
  maxDuration = 3600,
  avatar = 'avatar_test',
): Promise<string> {
  const answer = await call(
    `${baseUrl}/v1/widget/sessions`,
    withKey(key, 'POST', { agentic_avatar_id: avatar, settings: { max_duration: maxDuration } }),
  );
  assert.equal(answer.status, 201, answer.text);
  return answer.body.session_id as string;
}

/** Checks the vendor error schema exactly: status, code, `request_id` in body and header, JSON content type. */
export function assertVendorError(answer: Answer, status: number, code: string): ErrorBody {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.headers.get('content-type'), 'application/json');
  const body: unknown = answer.body;
  assert.ok(isErrorBody(body), answer.text);
  assert.equal(body.error.code, code);
  assert.ok(body.error.message.length > 0, `the ${code} error says nothing in its message: ${answer.text}`);
  assert.deepEqual(Object.keys(body).sort(), ['error', 'request_id']);
  for (const key of Object.keys(body.error))
    assert.ok(['code', 'message', 'details'].includes(key), `unexpected error field ${key}`);
  assert.match(body.request_id, /^req_[A-Za-z0-9]{24}$/);
  assert.equal(answer.headers.get('x-request-id'), body.request_id);
  return body;
}

export type RawAnswer =
  { status: number; headers: Record<string, unknown>; text: string } | { error: NodeJS.ErrnoException };

/** A request with its path sent exactly as given (no URL normalisation), for traversal and socket-level tests. */
export function rawRequest(
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve) => {
    const req = request({ host: hostname, port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', (error) => resolve({ error }));
    });
    req.on('error', (error) => resolve({ error }));
    req.end(body);
  });
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.parse('2030-01-01T00:00:00.000Z')): {
  now: () => number;
  advance: (ms: number) => void;
} {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

export type { RunningSimulator };
