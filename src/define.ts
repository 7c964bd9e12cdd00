/**
 * Registers `<konpro-widget-guard>`. Importing the package twice (two copies,
 * or two versions) must not break the page: the first definition wins and
 * the second says so in the console.
 */
import { KonproWidgetGuard } from './element/konpro-widget-guard.js';

export const TAG_NAME = 'konpro-widget-guard';

const existing = customElements.get(TAG_NAME);
if (!existing) {
  // The literal (not TAG_NAME) lets the custom-elements manifest see the tag.
  customElements.define('konpro-widget-guard', KonproWidgetGuard);
} else if (existing !== KonproWidgetGuard) {
  console.warn(
    `${TAG_NAME}: another copy of the guard already defined <${TAG_NAME}>; this copy is not registered. Load the package once.`,
  );
}

declare global {
  interface HTMLElementTagNameMap {
    'konpro-widget-guard': KonproWidgetGuard;
  }
}
