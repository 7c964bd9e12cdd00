import { unsafeCSS, type CSSResult } from 'lit';

/**
 * The styles interpolate nothing, so Lit's `css` tag (whose code is there to check interpolated values)
 * would check nothing: this one hands the constant text to `unsafeCSS`, which is safe for a constant.
 * (Named `css`, editors and Prettier still treat the template as CSS.)
 */
const css = (strings: TemplateStringsArray): CSSResult => unsafeCSS(strings[0]);

/*
 * What is shown follows the reflected `state` attribute, which the guard sets
 * synchronously: the terminated panel is visible (and focusable) in the very
 * task that tore the widget down, without waiting for a render.
 */
export const styles = css`
  :host {
    display: block;
    position: relative;
    box-sizing: border-box;
    color: var(--konpro-guard-color, inherit);
    font: inherit;
  }
  :host([hidden]) {
    display: none;
  }
  .widget,
  .panel {
    display: none;
  }
  :host([state='active']) .widget {
    display: block;
    height: 100%;
  }
  [part='frame'] {
    display: block;
    width: 100%;
    height: var(--konpro-guard-frame-height, 100%);
    min-height: var(--konpro-guard-frame-min-height, 360px);
    border: var(--konpro-guard-frame-border, 0);
    border-radius: var(--konpro-guard-radius, 0);
    background: var(--konpro-guard-frame-background, transparent);
  }
  :host([state='terminated']) .terminated,
  :host([state='error']) .error,
  :host([state='idle']) .start,
  :host([state='starting']) .start {
    display: block;
  }
  .panel {
    padding: var(--konpro-guard-panel-padding, 1rem);
    border-radius: var(--konpro-guard-radius, 0);
    background: var(--konpro-guard-panel-background, transparent);
  }
  .panel:focus {
    outline: none;
  }
  .panel:focus-visible {
    outline: 2px solid var(--konpro-guard-focus-color, currentColor);
    outline-offset: 2px;
  }
  .warning {
    position: absolute;
    inset: 0;
    z-index: 1;
    display: flex;
    align-items: center;
    justify-content: center;
    padding: 1rem;
    background: var(--konpro-guard-warning-backdrop, rgb(0 0 0 / 55%));
  }
  .warning-box {
    max-width: 24rem;
    padding: 1.5rem;
    border-radius: var(--konpro-guard-radius, 12px);
    background: var(--konpro-guard-warning-background, #fff);
    color: var(--konpro-guard-warning-color, #111);
    text-align: center;
    box-shadow: 0 10px 30px rgb(0 0 0 / 30%);
  }
  .warning-title {
    margin: 0 0 0.5rem;
    font-size: 1.25em;
    font-weight: 600;
  }
  .still-here {
    margin-top: 0.5rem;
    padding: 0.75em 1.5em;
    border: 0;
    border-radius: 999px;
    background: var(--konpro-guard-accent, #1a56db);
    color: var(--konpro-guard-accent-color, #fff);
    font: inherit;
    font-weight: 600;
    cursor: pointer;
  }
  .still-here:focus-visible {
    outline: 3px solid var(--konpro-guard-focus-color, #1a56db);
    outline-offset: 3px;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
`;
