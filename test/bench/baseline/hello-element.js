// The size baseline: the smallest useful element built on the same two libraries as the
// guard (a LitElement with one reactive property and a template, and an idb-keyval
// get/set). Plain JavaScript, so the bundle config's TypeScript step has nothing to add
// and both files go through exactly the same resolve + terser settings.
import { LitElement, html } from 'lit';
import { get, set } from 'idb-keyval';

export class HelloElement extends LitElement {
  static properties = { name: { type: String } };

  constructor() {
    super();
    this.name = 'world';
  }

  connectedCallback() {
    super.connectedCallback();
    void get('hello-name').then((saved) => {
      if (typeof saved === 'string') this.name = saved;
    });
  }

  render() {
    return html`<p>Hello, ${this.name}!</p>
      <button @click=${() => void set('hello-name', this.name)}>Remember me</button>`;
  }
}

customElements.define('hello-element', HelloElement);
