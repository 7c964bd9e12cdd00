/**
 * The fake vendor (test/proxy/support/fake-vendor.ts: the documented
 * widget-session API, sessions in memory) as a process of its own, for the
 * throughput figures, where it must not share the proxy's or the load
 * generator's event loop. What it records of each request is dropped every
 * second: nothing here reads it, and it would only grow.
 */
import { FakeVendor } from '../proxy/support/fake-vendor.js';
import { cpuMicros, serveParent } from './children.js';

export interface VendorReady {
  baseUrl: string;
}

const vendor = new FakeVendor();
await vendor.listen();
const trim = setInterval(() => (vendor.requests.length = 0), 1_000);
serveParent({ baseUrl: vendor.baseUrl } satisfies VendorReady, {
  cpu: () => cpuMicros(),
  sessions: () => vendor.sessions.size,
  close: async () => {
    clearInterval(trim);
    await vendor.close();
  },
});
