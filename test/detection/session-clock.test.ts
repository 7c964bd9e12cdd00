// The session clock (src/detection/session-clock.ts): expiry by wall-clock time, and a machine that slept.
import { expect } from '@esm-bundle/chai';
import { watchClock } from '../../src/detection/session-clock.js';
import { sleep, until } from '../support/helpers.js';

describe('session clock', () => {
  it('ends at the deadline, and at once for a deadline already past', async () => {
    const scope = new AbortController();
    let deadline = Date.now() + 150;
    const fired: number[] = [];
    const clock = watchClock(
      { deadline: () => deadline, onDeadline: () => fired.push(Date.now()), onWake: () => {} },
      scope.signal,
    );
    // Timers run in the order they are due, so this 60 ms one comes before the deadline's (150 ms)
    // however slow the machine; that the deadline came no sooner is checked on its time below.
    await sleep(60);
    expect(fired).to.deep.equal([]);
    await until(() => fired.length > 0, 'the deadline fired');
    expect(fired.length).to.equal(1);
    expect(fired[0], 'not before the deadline').to.be.at.least(deadline);
    deadline = Date.now() - 1;
    clock.check();
    expect(fired.length).to.equal(2, 'a past deadline ends it on the next check');
    scope.abort();
  });

  it('re-arms when the deadline moves, and checks nothing once its scope ends', async () => {
    const scope = new AbortController();
    let deadline: number | undefined = Date.now() + 60_000;
    let fired = 0;
    const clock = watchClock({ deadline: () => deadline, onDeadline: () => fired++, onWake: () => {} }, scope.signal);
    deadline = Date.now() + 80;
    clock.rearm();
    await until(() => fired > 0, 'the moved deadline fired');
    expect(fired).to.equal(1);
    scope.abort();
    deadline = Date.now() - 1;
    clock.check();
    // check() acts at once (as in the first test), so this is decided already; the wait only gives
    // a stray timer a turn.
    await sleep(50);
    expect(fired).to.equal(1);
  });

  it('tells a wake when the wall clock jumps past its heartbeat (the machine slept)', async () => {
    const scope = new AbortController();
    let offset = 0;
    let woke = 0;
    let beats = -1; // now() is read once when the clock starts, then once per heartbeat
    watchClock(
      {
        deadline: () => undefined,
        onDeadline: () => {},
        onWake: () => woke++,
        heartbeatMs: 40,
        now: () => {
          beats += 1;
          return Date.now() + offset;
        },
      },
      scope.signal,
    );
    // Heartbeats with no jump: a wake told without one would have been told by the second.
    await until(() => beats >= 2, 'two heartbeats');
    expect(woke).to.equal(0);
    offset = 60_000;
    await until(() => woke > 0, 'the wake told');
    expect(woke).to.equal(1);
    scope.abort();
  });
});
