// A store that can be taken down (every method rejects, as a store whose server is unreachable does)
// and that counts calls, over a real memoryStore.
import { memoryStore, type WidgetSessionStore } from '../../../src/proxy/index.js';

export interface FlakyStore extends WidgetSessionStore {
  /** While true, every method rejects. */
  down: boolean;
  /** Calls per method name. */
  calls: Map<string, number>;
}

/** The error an unreachable store gives; its text holds credentials that must never be logged. */
export const STORE_ERROR = 'connect ECONNREFUSED redis://kwg:hunter2-password@127.0.0.1:6390';

export function flakyStore(inner: WidgetSessionStore = memoryStore()): FlakyStore {
  const calls = new Map<string, number>();
  const state = { down: false, calls };
  return new Proxy(inner as FlakyStore, {
    get(target, name, receiver) {
      if (name === 'down' || name === 'calls') return state[name];
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function' || typeof name !== 'string') return value;
      return (...args: unknown[]) => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        if (state.down && name !== 'close') return Promise.reject(new Error(STORE_ERROR));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
    set(_target, name, value) {
      if (name !== 'down') return false;
      state.down = value as boolean;
      return true;
    },
  });
}
