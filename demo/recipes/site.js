// The parts of the server recipes that are your site's own: here, a toy sign-in by cookie
// (`user=<id>`), enough for the recipes to run in tests. Use your real session handling instead.
const USER = /(?:^|;\s*)user=([\w-]+)/;

/** The signed-in user of a Fetch-API request, or null. */
export async function currentUser(request) {
  const match = USER.exec(request.headers.get('cookie') ?? '');
  return match ? { id: match[1] } : null;
}

/** Express middleware: puts the signed-in user on `req.user`. */
export function siteSession(req, _res, next) {
  const match = USER.exec(req.headers.cookie ?? '');
  req.user = match ? { id: match[1] } : undefined;
  next();
}

/** The `Set-Cookie` values that sign the user out of the site. */
export function signOut() {
  return ['user=; Max-Age=0; Path=/'];
}

/** The rest of the site. */
export function site(_req, res) {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
}

/**
 * Your user for an identity provider's subject (`iss`, `sub`), or null. This toy site signs people in with
 * the provider's `sub` as their user id; a real one keeps the mapping where it keeps its users.
 */
export async function userOfProviderSubject(_issuer, subject) {
  return typeof subject === 'string' ? { id: subject } : null;
}
