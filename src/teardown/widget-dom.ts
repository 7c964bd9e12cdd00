/**
 * The widget in the guard's DOM: the frame the guard owns, or the host's own
 * markup in the default slot (a `<template>` there is stamped afresh for each
 * session). Teardown is synchronous and complete: an owned frame is pointed at
 * `about:blank` first (camera and microphone stop even if removal is
 * delayed), then removed; removed markup has its media stopped.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

type Host = ReactiveControllerHost & HTMLElement & { readonly renderRoot: HTMLElement | DocumentFragment };

export class WidgetDom implements ReactiveController {
  readonly #host: Host;
  #frame: HTMLIFrameElement | undefined;
  /** Nodes stamped from a `<template>` in the default slot. */
  #stamped: Node[] = [];

  constructor(host: Host) {
    this.#host = host;
    host.addController(this);
  }

  /** A guard out of the page shows no widget. */
  hostDisconnected(): void {
    this.clear();
  }

  /** Puts the widget frame in place. */
  placeFrame(url: string, title: string): void {
    const frame = document.createElement('iframe');
    frame.setAttribute('part', 'frame');
    frame.allow = 'camera; microphone; autoplay';
    frame.title = title;
    frame.src = url;
    this.#frame = frame;
    this.#host.renderRoot.querySelector('.widget')!.append(frame);
  }

  /** Stamps the default slot's templates, `{session_id}` in their attributes replaced. */
  stampTemplates(sessionId: string): void {
    for (const template of [...this.#host.children]) {
      if (!(template instanceof HTMLTemplateElement) || template.slot !== '') continue;
      const fragment = template.content.cloneNode(true) as DocumentFragment;
      for (const el of fragment.querySelectorAll('*')) {
        for (const attribute of [...el.attributes]) {
          if (attribute.value.includes('{session_id}'))
            attribute.value = attribute.value.replaceAll('{session_id}', sessionId);
        }
      }
      this.#stamped.push(...fragment.childNodes);
      template.after(fragment);
    }
  }

  /** Elements the host put in the default slot, templates excluded. */
  slotted(): Element[] {
    return [...this.#host.children].filter((el) => el.slot === '' && !(el instanceof HTMLTemplateElement));
  }

  /** The windows of the widget's frames: the owned one, else those in the host's markup. */
  windows(): Window[] {
    const frames = this.#frame
      ? [this.#frame]
      : this.slotted().flatMap((el) => (el instanceof HTMLIFrameElement ? [el] : [...el.querySelectorAll('iframe')]));
    return frames.flatMap((frame) => (frame.contentWindow ? [frame.contentWindow] : []));
  }

  /** Whether the owned frame has focus (the page sees no events from inside it). */
  frameFocused(): boolean {
    return this.#frame !== undefined && this.#host.shadowRoot?.activeElement === this.#frame;
  }

  /** Whether focus is inside the widget. */
  hasFocus(): boolean {
    const active = document.activeElement;
    if (!active) return false;
    if (active === this.#host) return this.frameFocused();
    return this.slotted().some((el) => el.contains(active)) || this.#stamped.some((node) => node.contains(active));
  }

  /** Takes the owned frame and the stamped nodes away (the host's own markup stays). */
  clear(): void {
    if (this.#frame) {
      // Navigating away first stops camera and microphone even if removal is delayed.
      this.#frame.src = 'about:blank';
      this.#frame.remove();
      this.#frame = undefined;
    }
    for (const node of this.#stamped.splice(0)) {
      stopMedia(node);
      node.parentNode?.removeChild(node);
    }
  }

  /** Removes the host's widget markup from the default slot (templates stay, for the next session). */
  removeMarkup(): void {
    for (const el of this.slotted()) {
      stopMedia(el);
      el.remove();
    }
  }
}

/** Stops what a removed piece of widget markup may still be playing or capturing. */
function stopMedia(node: Node): void {
  if (!(node instanceof Element)) return;
  const elements = [node, ...node.querySelectorAll('iframe, video, audio')];
  for (const el of elements) {
    if (el instanceof HTMLIFrameElement) el.src = 'about:blank';
    if (el instanceof HTMLMediaElement) {
      el.pause();
      if (el.srcObject instanceof MediaStream) for (const track of el.srcObject.getTracks()) track.stop();
      el.srcObject = null;
    }
  }
}
