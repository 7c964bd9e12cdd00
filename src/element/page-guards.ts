/**
 * The guards of one page (in shadow roots too), and what they settle among
 * themselves: a session ended in one ends in every other guard of the page
 * showing it, one guard reports each settled delete, and every guard hears
 * that storage is unavailable. (Between tabs, the tab channel does this.)
 */
import type { ReactiveController } from 'lit';
import { deleteOutbox } from '../outbox/outbox.js';
import { endedSessions } from '../session/ended-sessions.js';
import type { GuardConfig } from './config.js';

export interface PageGuardPorts {
  /** The session this guard holds. */
  held(): string | undefined;
  /** Whether this guard asked for the delete of `sessionId`. */
  asked(sessionId: string): boolean;
  /** Another guard of the page ended the session this one shows. */
  endedElsewhere(): void;
}

/** The connected guards, in the order they connected. */
const guards = new Set<PageGuard>();

export class PageGuard implements ReactiveController {
  readonly #config: GuardConfig;
  readonly #ports: PageGuardPorts;

  constructor(config: GuardConfig, ports: PageGuardPorts) {
    this.#config = config;
    this.#ports = ports;
    config.host.addController(this);
  }

  hostConnected(): void {
    guards.add(this);
    // Where IndexedDB fails, guarantees 2 and 4 hold for this page only: say so.
    // (The page-wide stores are looked up here, in a page: never where the element is only constructed.)
    endedSessions().onStorageError = deleteOutbox().onStorageError = (error) => {
      for (const guard of guards) {
        guard.#config.error(
          'storage-unavailable',
          `IndexedDB is unavailable (${String(error)}): ended sessions and pending deletes are kept for this page only`,
          true,
        );
      }
    };
    // Something else wrote to the outbox's storage (a script injected once, say): nothing was sent.
    deleteOutbox().onDroppedDelete = (url, reason) => {
      const [first] = guards;
      if (first)
        first.#config.error('invalid-stored-delete', `a stored delete was dropped unsent: ${reason} (${url})`, false);
    };
  }

  hostDisconnected(): void {
    guards.delete(this);
  }

  /** Ends `sessionId` in the other guards of the page that show it. */
  endElsewhere(sessionId: string): void {
    for (const guard of guards) if (guard !== this && guard.#ports.held() === sessionId) guard.#ports.endedElsewhere();
  }

  /** Whether this guard reports the settled delete of `sessionId`: the one that asked, else the first one. */
  reports(sessionId: string): boolean {
    const all = [...guards];
    return (all.find((guard) => guard.#ports.asked(sessionId)) ?? all[0]) === this;
  }
}
