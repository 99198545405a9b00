// The server's REST API as the pages call it, and the caller's token: where it comes from, what it
// allows.

const TOKEN_KEY = 'waymark.token';

/** Roles from least to most allowed (PROTOCOL.md §1.5). */
export const ROLES = ['viewer', 'commenter', 'editor', 'facilitator', 'owner'];

/**
 * The token the page was opened with. A link may carry it as `?token=`: it is moved to session
 * storage and taken out of the address bar, so it does not end up in history, bookmarks or
 * screenshots, and a reload of the tab still has it.
 */
function takeToken() {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export const token = takeToken();

/** The token's claims, read for the interface only: the server checks the signature and enforces. */
export const claims = (() => {
  if (!token) return null;
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0)));
    return JSON.parse(json);
  } catch {
    return null;
  }
})();

/** The caller's role: from the token, or `owner` on a server without authentication. */
export const role = claims ? (ROLES.includes(claims.role) ? claims.role : 'viewer') : 'owner';

/** Whether the caller's role is `least` or above. */
export function roleAtLeast(least) {
  return ROLES.indexOf(role) >= ROLES.indexOf(least);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A sentence for an API error that tells the reader what to do about it. */
export function explain(err) {
  switch (err?.code) {
    case 'token_missing':
      return 'This server needs an access token: open the link you were given, which carries ?token=.';
    case 'token_expired':
      return 'Your access token has expired: ask whoever gave you the link for a new one.';
    case 'token_invalid':
      return 'Your access token is not valid on this server: open the link you were given again, or ask for a new one.';
    case 'map_not_covered':
      return 'Your access token does not cover this map.';
    case 'role_insufficient':
      return `Your role (${role}) does not allow this.`;
    case 'map_exists':
      return 'A map with that id already exists: choose another id, or leave it empty to get one generated.';
    case 'invalid_map_id':
      return 'That id cannot be used: use only letters, digits, “.”, “_” and “-”.';
    case 'map_not_found':
      return 'That map no longer exists.';
    case 'version_not_found':
      return 'That version no longer exists.';
    default:
      return err?.message ?? String(err);
  }
}

function headers(extra = {}) {
  const h = { ...extra };
  if (token) h.authorization = `Bearer ${token}`;
  return h;
}

async function failure(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: a proxy's page, say
  }
  const code = body?.error ?? `http_${res.status}`;
  const message = body?.message ?? `${res.status} ${res.statusText}`;
  return new ApiError(res.status, code, message);
}

/**
 * Calls `/api/v1{path}`. Resolves to the parsed JSON body (or text, with `text: true`); rejects with
 * an ApiError carrying the server's error code and message.
 */
export async function api(path, { method = 'GET', body, text = false } = {}) {
  const init = { method, headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  let res;
  try {
    res = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    throw new ApiError(0, 'network', `The server cannot be reached (${e.message}).`);
  }
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return null;
  return text ? res.text() : res.json();
}

/** Fetches `/api/v1{path}` as a file, with the token, for a download or a preview. */
export async function fetchBlob(path) {
  const res = await fetch(`/api/v1${path}`, { headers: headers() });
  if (!res.ok) throw await failure(res);
  return res.blob();
}

/** Saves a blob under `filename` through the browser's download. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
