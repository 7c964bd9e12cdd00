// The tab channel (src/tabs/tab-channel.ts): BroadcastChannel, the localStorage fallback, validation.
import { expect } from '@esm-bundle/chai';
import { TabChannel, type TabMessage } from '../../src/tabs/tab-channel.js';
import { uniqueId, until } from '../support/helpers.js';

function listen(channel: TabChannel) {
  const heard: TabMessage[] = [];
  const scope = new AbortController();
  channel.subscribe((m) => heard.push(m), scope.signal);
  return { heard, scope };
}

describe('tab channel', () => {
  for (const broadcast of [true, false]) {
    it(`carries messages to another channel of the origin (${broadcast ? 'BroadcastChannel' : 'storage events'})`, async () => {
      const sender = new TabChannel(broadcast);
      const receiver = new TabChannel(broadcast);
      const { heard, scope } = listen(receiver);
      const sessionId = uniqueId();
      const message: TabMessage = { kind: 'ended', sessionId, reason: 'logout', endedAt: 1 };
      if (broadcast) {
        sender.post(message);
      } else {
        // storage events reach other documents only: play the other tab's write here.
        window.dispatchEvent(
          new StorageEvent('storage', { key: 'konpro-widget-guard', newValue: JSON.stringify({ v: 1, ...message }) }),
        );
      }
      await until(() => heard.some((m) => m.kind === 'ended' && m.sessionId === sessionId), 'heard');
      scope.abort();
    });
  }

  it('drops malformed and unknown messages', () => {
    const receiver = new TabChannel(false);
    const { heard, scope } = listen(receiver);
    const bad = [
      'not json',
      JSON.stringify({ v: 2, kind: 'activity', at: 1 }),
      JSON.stringify({ v: 1, kind: 'ended', sessionId: 'bad id!', reason: 'logout', endedAt: 1 }),
      JSON.stringify({ v: 1, kind: 'ended', sessionId: 'ok', reason: 'made-up', endedAt: 1 }),
      JSON.stringify({ v: 1, kind: 'delete-settled', key: 'k', sessionId: 'ok', outcome: 'maybe', attempts: 1 }),
      JSON.stringify({ v: 1, kind: 'nonsense' }),
    ];
    for (const newValue of bad)
      window.dispatchEvent(new StorageEvent('storage', { key: 'konpro-widget-guard', newValue }));
    window.dispatchEvent(
      new StorageEvent('storage', {
        key: 'konpro-widget-guard',
        newValue: JSON.stringify({ v: 1, kind: 'activity', at: 7 }),
      }),
    );
    // (dispatchEvent delivers synchronously: every message above has been handled.)
    expect(heard).to.deep.equal([{ kind: 'activity', at: 7 }]);
    scope.abort();
  });

  it('a listener hears nothing after its signal aborts', async () => {
    const sender = new TabChannel(true);
    const receiver = new TabChannel(true);
    const { heard, scope } = listen(receiver);
    // A listener that stays hears the message: by then the one that left would have heard it too.
    const witness = listen(receiver);
    scope.abort();
    sender.post({ kind: 'activity', at: 1 });
    await until(() => witness.heard.length > 0, 'heard by the listener that stayed');
    witness.scope.abort();
    expect(heard).to.deep.equal([]);
  });
});
