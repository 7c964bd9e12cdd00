// Recipe: the OpenID Connect back-channel logout endpoint, beside the proxy (the next recipes mount it).
import { proxy } from './next/lib/widget-proxy.js';
import { userOfProviderSubject } from './site.js';

// #region readme
import { createBackChannelLogout } from 'konpro-widget-guard/proxy';

// `proxy`: your createWidgetSessionProxy(...) handler (its store remembers each token's jti).
export const backChannelLogout = createBackChannelLogout({
  issuer: process.env.OIDC_ISSUER, // exactly the `issuer` of the provider's discovery document
  audience: process.env.OIDC_CLIENT_ID, // your client id at the provider
  jwks: process.env.OIDC_JWKS_URI, // its `jwks_uri`: fetched, cached, fetched again for an unknown kid
  // The provider's subject, as your site knows the person (null: nobody here, still a 200).
  userId: async (claims) => (await userOfProviderSubject(claims.iss, claims.sub))?.id ?? null,
  proxy,
});
// #endregion readme
