// The WWSF's API as the WIC uses it (isthmus-wwsf, docs/wwsf.md), all on
// the page's own origin with its session cookie:
//   GET  /api/config   {ws_uri, domain, pcscf, guest}: where the eP-CSCF is
//   POST /api/login    {user, password} -> {user, identity, expires} + cookie
//   POST /api/token    -> {token, identity, expires}            (A.3.2)
//   POST /api/guest    -> {token, identity, expires, lease_expires} (A.3.3)
//   POST /api/logout   ends the session (and a guest's lease)
// Errors are {"error": "..."}; each call rejects with an Error whose
// message is that text (or the HTTP status).

async function request(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let json = null;
  try {
    json = await res.json();
  } catch {
    // Not JSON: a plain static server, or an error page.
  }
  if (!res.ok || json === null) {
    const why = json && json.error ? json.error : `HTTP ${res.status}`;
    throw new Error(`${method} ${path}: ${why}`);
  }
  return json;
}

// The eP-CSCF's WebSocket and domain, or null when the page does not come
// from a WWSF (a plain file server, or the API failed): the form is then
// used as the user filled it.
export async function fetchConfig() {
  try {
    const c = await request('GET', '/api/config');
    return typeof c.ws_uri === 'string' ? c : null;
  } catch {
    return null;
  }
}

export function login(user, password) {
  return request('POST', '/api/login', { user, password });
}

export function token() {
  return request('POST', '/api/token', {});
}

export function guest() {
  return request('POST', '/api/guest', {});
}

export function logout() {
  return request('POST', '/api/logout', {});
}
