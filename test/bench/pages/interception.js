// Interception: what the guard's fetch patch costs requests it does not watch. One page,
// one live guard; each pair of requests goes once through the page's (patched) fetch and
// once through the browser's own, in alternating order.
import { createGuard } from './bench-page.js';

const nativeFetch = window.fetch;
await import('/dist/konpro-widget-guard.min.js');
const guarded = createGuard({ proxy: '/bench/proxy' });
await guarded.mount(`i_${Date.now().toString(36)}`);

async function timed(fetchFn, url) {
  const started = performance.now();
  const pending = fetchFn.call(window, url);
  const called = performance.now();
  const response = await pending;
  await response.json();
  return { total: performance.now() - started, call: called - started };
}

window.runInterception = async (pairs, offset) => {
  if (window.fetch === nativeFetch) throw new Error('the guard has not patched fetch: nothing would be measured');
  const guard = { total: [], call: [] };
  const bare = { total: [], call: [] };
  for (let i = offset; i < offset + pairs; i++) {
    // Unrelated to the guard: not under its proxy or the vendor's API.
    const first = i % 2 === 0;
    for (const patched of first ? [true, false] : [false, true]) {
      const sample = await timed(patched ? window.fetch : nativeFetch, `/bench/unrelated/${i}-${patched ? 'g' : 'n'}`);
      const into = patched ? guard : bare;
      into.total.push(sample.total);
      into.call.push(sample.call);
    }
  }
  return { guard, bare, stillPatched: window.fetch !== nativeFetch };
};

window.benchReady = true;
