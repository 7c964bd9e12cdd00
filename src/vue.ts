/**
 * `konpro-widget-guard/vue`: types `<konpro-widget-guard>` in Vue templates
 * (Vue's `GlobalComponents`, which vue-tsc and the Vue language tools read):
 * its attributes and properties, and `@konpro-session-end`-style listeners
 * with the event's detail. Types only; import it once, e.g. `import type {}
 * from 'konpro-widget-guard/vue'` in `env.d.ts`. Vue still needs
 * `isCustomElement` in its compiler options (see the README).
 */
import type { HTMLAttributes } from 'vue';
import type { GuardEventMap } from './element/events.js';
import type {
  KonproWidgetGuardAttributes,
  KonproWidgetGuardEventProps,
  KonproWidgetGuardProperties,
} from './framework-props.js';
import type { KonproWidgetGuard } from './element/konpro-widget-guard.js';

/** What a Vue template may pass: attributes (kebab-case), properties, and `on…` listeners for each event. */
export type KonproWidgetGuardVueProps = Omit<
  HTMLAttributes,
  keyof KonproWidgetGuardAttributes | keyof KonproWidgetGuardProperties
> &
  KonproWidgetGuardAttributes &
  KonproWidgetGuardProperties &
  KonproWidgetGuardEventProps<'pascal'>;

/** The element as a Vue component type: Vue's recommended shape for custom elements not built with Vue. */
export type KonproWidgetGuardVueComponent = new () => KonproWidgetGuard & {
  /** @deprecated For template type-checking only; not a property of the element. */
  $props: KonproWidgetGuardVueProps;
  /** @deprecated For template type-checking only; not a method of the element. */
  $emit: <K extends keyof GuardEventMap>(event: K, payload: GuardEventMap[K]) => void;
};

declare module 'vue' {
  interface GlobalComponents {
    'konpro-widget-guard': KonproWidgetGuardVueComponent;
  }
}
