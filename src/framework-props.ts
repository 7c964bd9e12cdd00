/**
 * The element's inputs as the props of other frameworks' templates: its
 * properties, its attributes, and a handler prop per event. Types only; the
 * React wrapper and the JSX and Vue template declarations are built from them,
 * so a property or event added to the element reaches every one of them.
 */
import type { LitElement } from 'lit';
import type { GuardEventMap } from './element/events.js';
import type { KonproWidgetGuard } from './element/konpro-widget-guard.js';

/** `konpro-session-end` → `KonproSessionEnd`. */
export type PascalCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Capitalize<Head>}${PascalCase<Tail>}`
  : Capitalize<S>;

type WritableData<T> = { [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]: T[K] };

/**
 * The properties a template may set: every public property of the element
 * that is not Lit's or `HTMLElement`'s, without the read-only `state` and the
 * methods.
 */
export type KonproWidgetGuardProperties = Partial<
  Omit<WritableData<Omit<KonproWidgetGuard, keyof LitElement>>, 'state'>
>;

/** The attributes, as markup writes them (numbers and booleans as React and Vue pass them). */
export interface KonproWidgetGuardAttributes {
  proxy?: string;
  'session-id'?: string;
  'widget-src'?: string;
  'widget-origin'?: string;
  watch?: string;
  'check-interval'?: number | string;
  'auto-start'?: boolean | '';
  'idle-timeout'?: number | string;
  'idle-warning'?: number | string;
  'logout-trigger'?: string;
  push?: boolean | '';
  'expires-at'?: string;
  wipe?: string;
}

/** A handler prop per event: `on` + the event name as-is (React 19 JSX) or PascalCased (React wrapper, Vue). */
export type KonproWidgetGuardEventProps<Style extends 'as-is' | 'pascal'> = {
  [K in keyof GuardEventMap as Style extends 'pascal' ? `on${PascalCase<K>}` : `on${K}`]?: (
    event: GuardEventMap[K],
  ) => void;
};
