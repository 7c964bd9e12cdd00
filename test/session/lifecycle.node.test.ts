// The session lifecycle (src/session/lifecycle.ts), pure: every state × event, and a model-based
// run (fast-check commands) that drives it the way the element does against a simple model.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  GuardState,
  INITIAL,
  isSettled,
  sessionToDelete,
  transition,
  type Lifecycle,
  type LifecycleEvent,
} from '../../src/session/lifecycle.js';

const at = (state: GuardState, extra: Partial<Lifecycle> = {}): Lifecycle => ({ ...INITIAL, state, ...extra });
/** Equal as data: a key set to `undefined` is a key that is not there. */
const same = (actual: Lifecycle, expected: Lifecycle) =>
  assert.deepEqual(JSON.parse(JSON.stringify(actual)), JSON.parse(JSON.stringify(expected)));

void describe('lifecycle transitions', () => {
  void it('start → starting (creating); start failed → starting (retrying auto-start) or error; a stale failure changes nothing shown', () => {
    const creating = transition(INITIAL, { type: 'start' });
    same(creating, at(GuardState.Starting, { creating: true }));
    assert.equal(transition(creating, { type: 'start-failed', epoch: 0, retrying: true }).state, GuardState.Starting);
    assert.equal(transition(creating, { type: 'start-failed', epoch: 0, retrying: false }).state, GuardState.Error);
    const loggedOut = transition(creating, { type: 'logout' });
    same(loggedOut, at(GuardState.Terminated, { creating: true, epoch: 1 }));
    same(
      transition(loggedOut, { type: 'start-failed', epoch: 0, retrying: false }),
      at(GuardState.Terminated, { epoch: 1 }),
    );
  });

  void it('a start with a session held changes nothing', () => {
    const active = at(GuardState.Active, { held: 'a', shown: 'a' });
    assert.equal(transition(active, { type: 'start' }), active);
  });

  void it('logout while starting: the created session belongs to the old epoch and is what logout deletes', () => {
    let life = transition(INITIAL, { type: 'start' });
    life = transition(life, { type: 'logout' });
    life = transition(life, { type: 'created', epoch: 0, sessionId: 'new' });
    same(life, at(GuardState.Terminated, { shown: 'new', ended: 'new', epoch: 1 }));
    assert.equal(sessionToDelete(life), 'new');
    assert.equal(life.held, undefined, 'never mounted');
  });

  void it('mount → mounting → active → ended; the ended id is settled, another is not', () => {
    let life = transition(INITIAL, { type: 'mount', sessionId: 'a' });
    same(life, at(GuardState.Starting, { held: 'a', shown: 'a' }));
    life = transition(life, { type: 'active' });
    assert.equal(life.state, GuardState.Active);
    assert.ok(isSettled(life, 'a'), 'the active session id is not settled: setting it again would restart it');
    life = transition(life, { type: 'ended' });
    same(life, at(GuardState.Terminated, { shown: 'a', ended: 'a' }));
    assert.ok(isSettled(life, 'a'), 'setting the ended id again neither mounts nor refuses it');
    const released = transition(transition(INITIAL, { type: 'mount', sessionId: 'b' }), { type: 'released' });
    const loggedOutStart = transition(transition(released, { type: 'start' }), { type: 'logout' });
    assert.ok(!isSettled(loggedOutStart, 'b'), 'a released id was never ended: it may be shown again');
    assert.equal(sessionToDelete(loggedOutStart), 'b', 'and it is still what a later logout deletes');
    assert.equal(transition(life, { type: 'mount', sessionId: 'a' }), life);
    assert.ok(!isSettled(life, 'b'), 'an id other than the ended one counts as settled: it would not be shown');
    assert.ok(!isSettled(life, null), 'no session id (null) counts as settled');
  });

  void it('mount refused → ended; released → idle; unset keeps an ended panel and a start under way', () => {
    const mounting = at(GuardState.Starting, { held: 'a', shown: 'a' });
    same(transition(mounting, { type: 'refused' }), at(GuardState.Terminated, { shown: 'a', ended: 'a' }));
    same(transition(mounting, { type: 'released' }), at(GuardState.Idle, { shown: 'a' }));
    const ended = at(GuardState.Terminated, { shown: 'a', ended: 'a' });
    assert.equal(transition(ended, { type: 'unset' }), ended);
    const creating = at(GuardState.Starting, { creating: true });
    assert.equal(transition(creating, { type: 'unset' }), creating);
    assert.equal(transition(at(GuardState.Error), { type: 'unset' }).state, GuardState.Idle);
    assert.equal(transition(at(GuardState.Starting), { type: 'unset' }).state, GuardState.Idle);
  });

  void it('reset → idle from anywhere, keeping what a later logout deletes; failed drops the held session', () => {
    for (const state of Object.values(GuardState)) {
      const life = at(state, { shown: 'a' });
      same(transition(life, { type: 'reset' }), at(GuardState.Idle, { shown: 'a' }));
      assert.equal(transition({ ...life, held: 'a' }, { type: 'failed' }).held, undefined);
    }
  });

  void it('events about a held session change nothing when none is held', () => {
    for (const state of [GuardState.Idle, GuardState.Terminated, GuardState.Error]) {
      const life = at(state);
      for (const type of ['refused', 'ended', 'released', 'active'] as const) {
        assert.equal(transition(life, { type }), life, `${state} ${type}`);
      }
    }
  });
});

// ---- Model-based: the element's way of driving the lifecycle, against a simple model. ----

/** The lifecycle as the element drives it: with an ended-sessions store, a proxy, and deletes. */
class Driven {
  life: Lifecycle = INITIAL;
  attribute: string | null = null;
  connected = true;
  readonly ended = new Set<string>();
  readonly deleted: string[] = [];
  /** Ids whose widget was placed (the phase went active), in order. */
  readonly mounted: string[] = [];
  #pending: number | undefined;
  #next = 0;

  go(event: LifecycleEvent): void {
    this.life = transition(this.life, event);
  }

  setAttribute(id: string | null): void {
    this.attribute = id;
    this.apply();
  }

  apply(): void {
    if (!this.connected) return;
    const id = this.attribute;
    if (isSettled(this.life, id)) return;
    if (this.life.held !== undefined) this.go({ type: 'released' });
    if (id === null) return this.go({ type: 'unset' });
    this.go({ type: 'mount', sessionId: id });
    if (this.ended.has(id)) return this.end('refused');
    this.go({ type: 'active' });
    this.mounted.push(id);
  }

  start(): void {
    if (this.life.held !== undefined || this.life.creating) return;
    this.go({ type: 'start' });
    this.#pending = this.life.epoch;
  }

  answer(ok: boolean): void {
    const epoch = this.#pending;
    if (epoch === undefined) return;
    this.#pending = undefined;
    if (!ok) return this.go({ type: 'start-failed', epoch, retrying: false });
    const id = `created-${this.#next++}`;
    const abandoned = epoch !== this.life.epoch;
    this.go({ type: 'created', epoch, sessionId: id });
    if (abandoned) {
      this.ended.add(id);
      this.deleted.push(id);
    } else {
      this.setAttribute(id);
    }
  }

  end(type: 'ended' | 'refused' | 'logout'): void {
    if (this.life.held === undefined) return;
    this.ended.add(this.life.held);
    this.go({ type });
  }

  logout(): void {
    if (this.life.held === undefined && this.life.creating) return this.go({ type: 'logout' });
    const id = sessionToDelete(this.life);
    this.end('logout');
    if (id !== undefined) this.deleted.push(id);
  }

  reset(): void {
    if (this.life.held === undefined && this.life.creating) return; // joins the start under way
    const live = this.life.held;
    if (live !== undefined) {
      this.end('ended');
      this.deleted.push(live);
    }
    this.attribute = null;
    this.go({ type: 'reset' });
  }

  disconnect(): void {
    this.connected = false;
    if (this.life.held !== undefined) this.go({ type: 'released' });
  }

  reconnect(): void {
    this.connected = true;
    this.apply();
  }
}

/** What a user would expect, kept as simply as possible. */
interface Model {
  attribute: string | null;
  /** The session whose widget shows, if any. */
  showing: string | undefined;
  /** The session a logout must delete: the one showing, else the last one shown (or created and abandoned). */
  lastShown: string | undefined;
  endedIds: Set<string>;
  deletes: number;
  /** A start waits for the proxy; `abandoned`: it was logged out meanwhile, with nothing showing. */
  start: { abandoned: boolean } | undefined;
}

type Cmd = fc.Command<Model, Driven>;

/** The model's view of setting (or re-applying) the session-id attribute. */
function applyAttribute(model: Model): void {
  const id = model.attribute;
  if (model.showing !== undefined && model.showing === id) return;
  model.showing = undefined;
  if (id === null) return;
  model.lastShown = id;
  if (!model.endedIds.has(id)) model.showing = id;
}

function endShowing(model: Model): void {
  if (model.showing !== undefined) model.endedIds.add(model.showing);
  model.showing = undefined;
}

function check(model: Model, real: Driven): void {
  const showing = real.life.state === GuardState.Active ? real.life.held : undefined;
  assert.equal(showing, model.showing, 'the session showing is the one the model expects');
  assert.ok(real.life.held === undefined || real.life.held === showing, 'one session held, and it is the one shown');
  for (const id of real.mounted.slice(real.mounted.length - 1)) {
    assert.ok(!real.ended.has(id) || id !== showing, `ended ${id} is never mounted again`);
  }
  assert.equal(real.deleted.length, model.deletes, 'one delete per logout (or reset) of a shown session');
}

const cmd = (name: string, run: (model: Model, real: Driven) => void): Cmd => ({
  check: () => true,
  run(model, real) {
    const endedBefore = new Set(real.ended);
    const mountedBefore = real.mounted.length;
    run(model, real);
    for (const id of real.mounted.slice(mountedBefore)) assert.ok(!endedBefore.has(id), `ended ${id} mounted again`);
    check(model, real);
  },
  toString: () => name,
});

const setId = (id: string | null) =>
  cmd(`set session-id ${String(id)}`, (model, real) => {
    real.setAttribute(id);
    model.attribute = id;
    applyAttribute(model);
  });

const start = cmd('start()', (model, real) => {
  const idle = real.life.held === undefined && !real.life.creating;
  real.start();
  if (idle) model.start = { abandoned: false };
});

const answer = (ok: boolean) =>
  cmd(`the proxy answers the start: ${ok ? 'created' : 'failed'}`, (model, real) => {
    const pending = model.start;
    real.answer(ok);
    model.start = undefined;
    if (!pending || !ok) return;
    if (pending.abandoned) {
      const id = real.deleted.at(-1)!;
      assert.ok(id.startsWith('created-'), 'the session a logout overtook is deleted, never shown');
      if (model.showing === undefined) model.lastShown = id;
      model.endedIds.add(id);
      model.deletes += 1;
    } else {
      model.attribute = real.attribute;
      applyAttribute(model);
    }
  });

const logout = cmd('logout()', (model, real) => {
  if (model.showing === undefined && model.start) {
    real.logout();
    model.start.abandoned = true;
    model.showing = undefined;
    return;
  }
  real.logout();
  if (model.lastShown !== undefined) {
    model.deletes += 1;
    assert.equal(real.deleted.at(-1), model.lastShown, 'the logout deletes exactly the session that was shown');
  }
  endShowing(model);
});

const terminate = cmd('the vendor terminates the session', (model, real) => {
  real.end('ended');
  endShowing(model);
});

const reset = cmd('reset()', (model, real) => {
  if (model.showing === undefined && model.start) return; // a reset joins the start under way
  real.reset();
  if (model.showing !== undefined) model.deletes += 1;
  endShowing(model);
  model.attribute = null;
});

const reconnect = cmd('the element is moved (disconnected and connected again)', (model, real) => {
  real.disconnect();
  assert.equal(real.life.held, undefined, 'nothing is held by a guard out of the page');
  real.reconnect();
  model.showing = undefined;
  applyAttribute(model);
});

void describe('lifecycle, model-based', () => {
  void it('never two mounted sessions, an ended id never mounted again, every logout deletes the session shown', () => {
    const commands = fc.commands(
      [
        fc.constantFrom('a', 'b', 'c').map((id) => setId(id)),
        fc.constant(setId(null)),
        fc.constant(start),
        fc.boolean().map((ok) => answer(ok)),
        fc.constant(logout),
        fc.constant(terminate),
        fc.constant(reset),
        fc.constant(reconnect),
      ],
      { maxCommands: 40 },
    );
    const setup = () => ({
      model: {
        attribute: null,
        showing: undefined,
        lastShown: undefined,
        endedIds: new Set<string>(),
        deletes: 0,
        start: undefined,
      } satisfies Model,
      real: new Driven(),
    });
    fc.assert(
      fc.property(commands, (cmds) => fc.modelRun(setup, cmds)),
      { numRuns: 5000 },
    );
  });
});
