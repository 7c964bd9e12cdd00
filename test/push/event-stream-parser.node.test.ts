// Server-Sent Events parsing (src/push/event-stream-parser.ts), against the HTML standard's rules
// (§ 9.2.6 "Interpreting an event stream") and its own examples.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EventStreamParser, type StreamEvent } from '../../src/push/event-stream-parser.js';

function parse(...chunks: string[]): { events: StreamEvent[]; lastId: string } {
  const events: StreamEvent[] = [];
  const parser = new EventStreamParser((event) => events.push(event));
  for (const chunk of chunks) parser.feed(chunk);
  return { events, lastId: parser.lastId };
}

/** What the proxy sends (src/proxy/registry/event-streams.ts). */
const PROXY_STREAM =
  ': connected\n\n' +
  'id: 1733140000000-0\nevent: ended\ndata: {"session_id":"s_1","reason":"revoked"}\n\n' +
  ': ping\n\n' +
  'id: 1733140000001-0\nevent: ended\ndata: {"session_id":"s_2","reason":"logout"}\n\n';

const PROXY_EVENTS: StreamEvent[] = [
  { type: 'ended', data: '{"session_id":"s_1","reason":"revoked"}', id: '1733140000000-0' },
  { type: 'ended', data: '{"session_id":"s_2","reason":"logout"}', id: '1733140000001-0' },
];

void describe('EventStreamParser', () => {
  void it("reads the proxy's stream: events with ids, comments skipped", () => {
    const { events, lastId } = parse(PROXY_STREAM);
    assert.deepEqual(events, PROXY_EVENTS);
    assert.equal(lastId, '1733140000001-0');
  });

  void it('gives the same events however the stream is cut into chunks', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: PROXY_STREAM.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), PROXY_STREAM.length];
        const chunks = points.slice(1).map((end, i) => PROXY_STREAM.slice(points[i], end));
        assert.deepEqual(parse(...chunks).events, PROXY_EVENTS);
      }),
    );
  });

  void it('ends lines at CRLF, LF or CR alike, also when a CRLF is split between two chunks', () => {
    const expected = [{ type: 'ended', data: 'a', id: '7' }];
    assert.deepEqual(parse('id: 7\r\nevent: ended\r\ndata: a\r\n\r\n').events, expected);
    assert.deepEqual(parse('id: 7\revent: ended\rdata: a\r\r').events, expected);
    assert.deepEqual(parse('id: 7\r', '\nevent: ended\r', '\ndata: a\r', '', '\n\r', '\n').events, expected);
    // A CR, then something else: the CR ended the line.
    assert.deepEqual(parse('data: a\r', 'data: b\r', '\r').events, [{ type: 'message', data: 'a\nb', id: '' }]);
  });

  void it('joins data lines with LF, and keeps empty data lines', () => {
    assert.deepEqual(parse('data: one\ndata:\ndata:  two\n\n').events, [
      { type: 'message', data: 'one\n\n two', id: '' },
    ]);
    // The standard's own example: "data" with no colon is an empty data line.
    assert.deepEqual(parse('data\n\ndata\ndata\n\ndata:\n').events, [
      { type: 'message', data: '', id: '' },
      { type: 'message', data: '\n', id: '' },
    ]);
  });

  void it('removes one space after the colon, no more; unknown fields and retry are ignored', () => {
    assert.deepEqual(parse('event:  x\nfoo: bar\nretry: 10\ndata:test\n\n').events, [
      { type: ' x', data: 'test', id: '' },
    ]);
  });

  void it('dispatches nothing for an event without data, but takes its id; the id persists', () => {
    const { events, lastId } = parse('id: 5\nevent: ended\n\ndata: x\n\n');
    assert.deepEqual(events, [{ type: 'message', data: 'x', id: '5' }]);
    assert.equal(lastId, '5');
    assert.equal(parse('id: 5\n\nid\n\n').lastId, '', 'an empty id resets it');
    assert.equal(parse('id: 5\n\nid: a\0b\n\n').lastId, '5', 'an id with NUL is ignored');
  });

  void it('drops an event cut off by the end of a connection, and keeps the id across connections', () => {
    const events: StreamEvent[] = [];
    const parser = new EventStreamParser((event) => events.push(event));
    parser.feed('id: 1\ndata: a\n\nid: 2\nevent: ended\ndata: half');
    parser.reset();
    assert.equal(parser.lastId, '1', 'Last-Event-ID of the next connection');
    parser.feed('data: b\n\n');
    assert.deepEqual(events, [
      { type: 'message', data: 'a', id: '1' },
      { type: 'message', data: 'b', id: '1' },
    ]);
  });

  void it('ignores comments, also ones that look like fields', () => {
    assert.deepEqual(parse(':data: x\n: ping\n\n:\n\n').events, []);
  });
});
