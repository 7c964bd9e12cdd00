/**
 * A `node:http` request body as a web `ReadableStream`, for the handlers that
 * read one (the back-channel logout endpoint). Written against the
 * structural shape of `IncomingMessage`, so the package needs no Node types.
 */

/** What is read of an `IncomingMessage` to stream its body. */
interface ReadableRequest {
  on(event: string, listener: (value?: unknown) => void): unknown;
  off(event: string, listener: (value?: unknown) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  /** Node: true once the body was read to its end (e.g. by a body parser before us). */
  readonly readableEnded?: boolean;
  /** Express: what a body parser made of the body it read. */
  readonly body?: unknown;
}

function isReadable(req: object): req is ReadableRequest {
  const candidate = req as Partial<Record<keyof ReadableRequest, unknown>>;
  return (
    typeof candidate.on === 'function' &&
    typeof candidate.off === 'function' &&
    typeof candidate.pause === 'function' &&
    typeof candidate.resume === 'function'
  );
}

/**
 * The body of `req`, or `undefined` when it has none to give. A body a parser
 * (Express's `express.urlencoded()`) already read is given back as the form it
 * parsed, so the handler still sees its fields.
 */
export function nodeRequestBody(req: object): ReadableStream<Uint8Array> | string | undefined {
  if (!isReadable(req)) return undefined;
  if (req.readableEnded === true) return parsedForm(req.body);
  let settled = false;
  const listeners: Array<[string, (value?: unknown) => void]> = [];
  const detach = () => {
    settled = true;
    for (const [event, listener] of listeners) req.off(event, listener);
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const on = (event: string, listener: (value?: unknown) => void) => {
        listeners.push([event, listener]);
        req.on(event, listener);
      };
      on('data', (chunk) => {
        if (settled) return;
        controller.enqueue(
          typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk as Uint8Array),
        );
        // Back-pressure: Node stops reading the socket until the handler asks for more.
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      on('end', () => {
        if (settled) return;
        detach();
        controller.close();
      });
      on('error', (error) => {
        if (settled) return;
        detach();
        controller.error(error);
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      // The handler has read enough (a body too large): drain the rest so the connection stays usable.
      detach();
      req.resume();
    },
  });
}

function parsedForm(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    for (const item of Array.isArray(value) ? value : [value]) if (typeof item === 'string') form.append(name, item);
  }
  return form.toString();
}
