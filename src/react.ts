/**
 * `konpro-widget-guard/react`: `<KonproWidgetGuard>` for React 18 and 19, made
 * with `@lit/react`. Props that are element properties are set as properties
 * (React 18 would set strings as attributes), and `onKonproSessionEnd`-style
 * props listen to the element's events (React 18 would not listen at all).
 * Importing this module also defines `<konpro-widget-guard>` and types the tag
 * itself in React's JSX, for React 19 code that uses the element directly.
 */
import * as React from 'react';
import { createComponent } from '@lit/react';
import { KonproWidgetGuard as GuardElement, TAG_NAME } from './index.js';
import type {
  KonproWidgetGuardAttributes,
  KonproWidgetGuardEventProps,
  KonproWidgetGuardProperties,
} from './framework-props.js';
import type { GuardEventMap } from './element/events.js';
import type { PascalCase } from './framework-props.js';

export type { KonproWidgetGuardAttributes, KonproWidgetGuardEventProps, KonproWidgetGuardProperties };

/** The wrapper's props: the element's properties, a handler per event, and what React gives any element. */
export type KonproWidgetGuardProps = Omit<
  React.HTMLAttributes<GuardElement>,
  keyof KonproWidgetGuardProperties | keyof KonproWidgetGuardEventProps<'pascal'>
> &
  KonproWidgetGuardProperties &
  KonproWidgetGuardEventProps<'pascal'>;

/** `<konpro-widget-guard>` used directly in React 19 JSX: attributes, properties and `onkonpro-…` handlers. */
export type KonproWidgetGuardJsxProps = React.DetailedHTMLProps<
  Omit<
    React.HTMLAttributes<GuardElement>,
    keyof KonproWidgetGuardAttributes | keyof KonproWidgetGuardProperties | keyof KonproWidgetGuardEventProps<'as-is'>
  >,
  GuardElement
> &
  KonproWidgetGuardAttributes &
  KonproWidgetGuardProperties &
  KonproWidgetGuardEventProps<'as-is'>;

declare module 'react' {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- React declares JSX as a namespace
  namespace JSX {
    interface IntrinsicElements {
      'konpro-widget-guard': KonproWidgetGuardJsxProps;
    }
  }
}

// Every event of the element, each once (the compiler refuses this object if one is missing).
const events = {
  onKonproSessionStart: 'konpro-session-start',
  onKonproSessionEnd: 'konpro-session-end',
  onKonproDelete: 'konpro-delete',
  onKonproIdleWarning: 'konpro-idle-warning',
  onKonproGuardError: 'konpro-guard-error',
} as const satisfies { [K in keyof GuardEventMap as `on${PascalCase<K>}`]: K };

const Wrapped = createComponent({
  react: React,
  tagName: TAG_NAME,
  elementClass: GuardElement,
  events,
  displayName: 'KonproWidgetGuardInner',
});

/**
 * `<konpro-widget-guard>` as a React component (React 18 and 19). The `ref`
 * is the element, for `logout()`, `reset()` and `start()`.
 *
 * A property prop that is left out after being given (or given as
 * `undefined`) is set to `null`, the element's own "not set", so that
 * dropping `sessionId` releases the widget as removing the attribute does.
 */
export const KonproWidgetGuard: React.ForwardRefExoticComponent<
  React.PropsWithoutRef<KonproWidgetGuardProps> & React.RefAttributes<GuardElement>
> = React.forwardRef<GuardElement, KonproWidgetGuardProps>(function KonproWidgetGuard(props, ref) {
  const given = React.useRef(new Set<string>());
  const passed: Record<string, unknown> = { ...props };
  for (const [name, value] of Object.entries(props)) {
    if (GuardElement.elementProperties.has(name)) {
      given.current.add(name);
      if (value === undefined) passed[name] = null;
    }
  }
  for (const name of given.current) if (!(name in passed)) passed[name] = null;
  return React.createElement(Wrapped, { ...passed, ref });
});
