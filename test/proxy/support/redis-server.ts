// A real redis-server for the tests, started by the tests themselves: on a
// free loopback port, with its own temporary directory. By default without
// persistence, so a kill -9 and restart is a Redis that lost everything (the
// worst case a store must survive); `durable` writes every command to an
// append-only file first, as a production Redis would, so a restart keeps
// what it had. Stopped, and its directory removed, after the file.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before } from 'node:test';

const START_TIMEOUT_MS = 10_000;

/** `REDIS_SERVER`, else /usr/bin/redis-server, else `redis-server` on PATH; a clear error when none. */
export function redisServerBinary(): string {
  const candidates = [
    process.env.REDIS_SERVER,
    '/usr/bin/redis-server',
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'redis-server')),
  ];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error(
    'redis-server was not found (looked at $REDIS_SERVER, /usr/bin/redis-server and PATH). ' +
      'These tests need a real Redis: install it (Debian: apt-get install -y redis-server; .ci/run does this) ' +
      'or set REDIS_SERVER to its path.',
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface RedisServerOptions {
  /** `--appendonly yes --appendfsync always`: a kill -9 loses nothing. Default false (`--appendonly no`). */
  durable?: boolean;
}

export class RedisServer {
  readonly binary: string;
  readonly durable: boolean;
  #port = 0;
  #dir = '';
  #child: ChildProcess | undefined;

  constructor(options: RedisServerOptions = {}, binary = redisServerBinary()) {
    this.binary = binary;
    this.durable = options.durable ?? false;
  }

  get port(): number {
    return this.#port;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    if (!this.#port) throw new Error('the test Redis has not started');
    return `redis://127.0.0.1:${this.#port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts on a free port (a few tries: another process may take the port between the probe and the bind). */
  async start(): Promise<void> {
    this.#dir = await mkdtemp(join(tmpdir(), 'kwg-redis-'));
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      this.#port = await freePort();
      try {
        await this.#spawn();
        return;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  /** Kills the server at once (SIGKILL: no shutdown, no save), as a crash or an OOM kill would. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts again on the same port and directory: empty, as after a crash without persistence, unless `durable`. */
  async restart(): Promise<void> {
    await this.kill();
    await this.#spawn();
  }

  /** Kills the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }

  async #spawn(): Promise<void> {
    const child = spawn(
      this.binary,
      [
        '--port',
        String(this.#port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.#dir,
        '--save',
        '',
        ...(this.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
        '--daemonize',
        'no',
        '--loglevel',
        'notice',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`redis-server did not become ready in ${START_TIMEOUT_MS} ms:\n${output}`));
      }, START_TIMEOUT_MS);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.off('exit', onExit);
        child.off('error', onError);
        if (error) reject(error);
        else resolve();
      };
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('Ready to accept connections')) settle();
      };
      const onExit = (code: number | null) =>
        settle(new Error(`redis-server exited (code ${code}) before it was ready:\n${output}`));
      const onError = (error: Error) => settle(error);
      child.stdout.on('data', onData);
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.once('exit', onExit);
      child.once('error', onError);
    });
    // Keep draining its output, so a chatty server never blocks on a full pipe.
    child.stdout.resume();
    child.stderr.resume();
    this.#child = child;
  }
}

/** A Redis for one test file: started before its tests, stopped (and its directory removed) after them. */
export function redisServerForFile(options: RedisServerOptions = {}): RedisServer {
  const server = new RedisServer(options);
  before(() => server.start());
  after(() => server.stop());
  return server;
}
