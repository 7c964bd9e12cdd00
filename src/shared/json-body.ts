/**
 * Reading JSON answers with a size limit, the same way in the browser (the
 * guard reading the page's responses) and on the server (the proxy reading
 * the vendor's).
 */

/** Marks a body that should have been JSON but was not. */
export const MALFORMED = Symbol('malformed body');

/**
 * JSON answers of the vendor and the proxy are a few hundred bytes; a larger body is not one of them
 * and is not read (by the proxy reading the vendor, nor by the guard reading the page's responses).
 */
export const MAX_BODY_BYTES = 64 * 1024;

/** Whether a `Content-Type` says JSON (`application/json`, `application/problem+json`, …). */
export function isJsonType(type: string | null): boolean {
  return type !== null && /\bjson\b/i.test(type);
}

/** The body as text, or `undefined` (the stream cancelled) once it passes `maxBytes`. */
export async function readTextCapped(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<string | undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    text += decoder.decode(value, { stream: true });
  }
}

/** The parsed JSON, or {@link MALFORMED}. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return MALFORMED;
  }
}
