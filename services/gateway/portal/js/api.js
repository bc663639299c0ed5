// The gateway's REST/JSON API (/v1/...) and the member's session.
//
// Bodies are the protobuf JSON mapping of the services' messages
// (lowerCamelCase names, enums by name, int64 as strings). An error answer
// becomes an ApiError carrying the gRPC code name and the fields at fault:
//   {"code": "INVALID_ARGUMENT", "message": "...",
//    "details": [{"field": "profile.email", "description": "..."}]}
//
// The session (access and refresh tokens) lives in sessionStorage, so it
// ends with the tab. A call answered 401 refreshes the tokens once and is
// sent again; when the refresh itself is refused the session is over and a
// "mb:session-ended" event tells the page.

const SESSION_KEY = 'mb.session';

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || codeForStatus(status);
    // The server's own words, when it sent any.
    this.detail = (body && body.message) || '';
    this.details = Array.isArray(body && body.details) ? body.details : [];
  }
}

function codeForStatus(status) {
  return {
    0: 'UNAVAILABLE', 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ALREADY_EXISTS',
    412: 'FAILED_PRECONDITION', 429: 'RESOURCE_EXHAUSTED', 503: 'UNAVAILABLE',
    504: 'DEADLINE_EXCEEDED',
  }[status] || 'INTERNAL';
}

export function currentSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY));
  } catch {
    return null;
  }
}

export function saveSession(session) {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
}

// Nested objects become dotted names and arrays repeated parameters:
// {fromDate: {year: 2026}, types: ['A', 'B']} -> fromDate.year=2026&types=A&types=B
export function toQuery(values, prefix = '', out = new URLSearchParams()) {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === null || value === '') continue;
    const name = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(value)) value.forEach((item) => out.append(name, String(item)));
    else if (typeof value === 'object') toQuery(value, name, out);
    else out.append(name, String(value));
  }
  return out;
}

async function send(method, url, body, withToken) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const session = currentSession();
  if (withToken && session) headers.Authorization = `Bearer ${session.accessToken}`;
  try {
    return await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (networkError) {
    throw new ApiError(0, { code: 'UNAVAILABLE', message: String(networkError) });
  }
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    // Not the API's JSON (a proxy's error page, say): the status tells.
    return {};
  }
}

// One refresh at a time: calls that fail together wait for the same one.
let refreshing = null;

function refreshSession() {
  const session = currentSession();
  if (!session || !session.refreshToken) return Promise.resolve(false);
  refreshing ??= (async () => {
    try {
      const response = await send('POST', '/v1/session/refresh',
        { refreshToken: session.refreshToken }, false);
      if (!response.ok) return false;
      const answer = await readBody(response);
      if (!answer.session || !answer.session.accessToken) return false;
      saveSession({ ...session, ...answer.session });
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// Calls the API; resolves to the decoded answer or throws an ApiError.
// options: body (sent as JSON), query (an object, see toQuery), auth
// (default true: send the access token and refresh it on a 401).
export async function api(method, path, { body, query, auth = true } = {}) {
  const url = query ? `${path}?${toQuery(query)}` : path;
  let response = await send(method, url, body, auth);
  if (response.status === 401 && auth && currentSession()) {
    if (await refreshSession()) {
      // A second 401 with fresh tokens is the call's own answer (a wrong
      // password, say), not the end of the session.
      response = await send(method, url, body, auth);
    } else {
      saveSession(null);
      window.dispatchEvent(new CustomEvent('mb:session-ended'));
    }
  }
  const answer = await readBody(response);
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

// The signed-in member's number, or null.
export function memberNumber() {
  const session = currentSession();
  return session ? session.memberNumber : null;
}

export function memberPath(suffix = '') {
  return `/v1/members/${encodeURIComponent(memberNumber())}${suffix}`;
}

// A redemption of the member's, or an action on it ('issue', 'cancel', ...).
export function redemptionPath(redemptionId, action = '') {
  return memberPath(`/redemptions/${encodeURIComponent(redemptionId)}${action ? `/${action}` : ''}`);
}
