// The Redis store, as a site imports it: its own entry, a store the proxy's `store` option takes.
import { redisStore, type RedisStoreOptions, type WidgetSessionStore } from 'konpro-widget-guard/proxy/redis';
import { expectType, type Equal } from './expect.js';

const options: RedisStoreOptions = { url: 'redis://127.0.0.1:6379', prefix: 'kwg:' };
const store = redisStore(options);
expectType<Equal<typeof store, WidgetSessionStore>>();
expectType<Equal<Awaited<ReturnType<typeof store.lease>>, boolean>>();

// @ts-expect-error the url is required
redisStore({ prefix: 'kwg:' });
// @ts-expect-error no such option
redisStore({ url: 'redis://127.0.0.1:6379', keyPrefix: 'kwg:' });
