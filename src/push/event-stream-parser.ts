/**
 * Server-Sent Events, parsed as the HTML standard says (§ 9.2.6): lines end
 * in CRLF, LF or CR (a CR at the end of a chunk ends its line at once, and an
 * LF starting the next chunk is the rest of that CRLF); `:` starts a comment; `data:` lines join with LF;
 * a blank line dispatches; an event without data is not dispatched, but its
 * `id:` still counts; `id:` persists across events and connections (it is the
 * `Last-Event-ID` of the next one). `retry:` is not followed: the reconnect
 * has its own backoff. Pure: no DOM, no I/O.
 */

export interface StreamEvent {
  /** `event:`, or `message` when there was none. */
  type: string;
  data: string;
  /** The stream's last event id when this one was dispatched. */
  id: string;
}

export class EventStreamParser {
  /** The last event id seen (sent as `Last-Event-ID` when reconnecting). */
  lastId = '';
  #rest = '';
  #cr = false;
  #type = '';
  #data = '';
  #id = '';
  readonly #onEvent: (event: StreamEvent) => void;

  constructor(onEvent: (event: StreamEvent) => void) {
    this.#onEvent = onEvent;
  }

  /** A new connection: what was left of the last one's lines and event is dropped; the id stays (as in Chromium). */
  reset(): void {
    this.#rest = this.#type = this.#data = '';
    this.#cr = false;
    this.#id = this.lastId;
  }

  /** Text as it arrives, in chunks cut anywhere. */
  feed(text: string): void {
    if (this.#cr && text.startsWith('\n')) text = text.slice(1);
    if (text === '') return;
    this.#cr = text.endsWith('\r');
    const lines = (this.#rest + text).split(/\r\n|\r|\n/);
    this.#rest = lines.pop()!;
    for (const line of lines) this.#line(line);
  }

  #line(line: string): void {
    if (line === '') {
      this.lastId = this.#id;
      const data = this.#data;
      const type = this.#type || 'message';
      this.#data = this.#type = '';
      if (data !== '') this.#onEvent({ type, data: data.slice(0, -1), id: this.lastId });
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // a comment
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#type = value;
    else if (field === 'data') this.#data += `${value}\n`;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
  }
}
