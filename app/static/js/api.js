// fetch() wrapper for the Thirdspace JSON API.
//
// Sends cookies (same origin only), a JSON body, and the CSRF token from
// <meta name="csrf-token">. Returns the parsed JSON reply (null for an empty one) or throws an
// ApiError carrying the server's {"error": {"code", "message", "fields"?}}.

export class ApiError extends Error {
  constructor({ code, message, fields, status, retryAfter }) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.fields = fields || null;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

const FALLBACK_MESSAGES = {
  400: 'The server could not read that request. Reload the page and try again.',
  401: 'You are not signed in, or your sign-in has expired. Sign in again and retry.',
  403: 'Your account is not allowed to do this.',
  404: 'That was not found. It may have been closed or removed.',
  409: 'That cannot be done right now because something changed. Reload the page and try again.',
  413: 'That is too large to send.',
  422: 'Some of the details are not valid. Check the highlighted fields.',
  429: 'Too many attempts. Wait a little, then try again.',
};

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const fromMeta = meta ? meta.getAttribute('content') : '';
  if (fromMeta) {
    return fromMeta;
  }
  // Fall back to the double-submit cookie if the page was rendered without a token.
  const match = document.cookie.match(/(?:^|;\s*)csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : '';
}

export async function api(method, url, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const token = csrfToken();
  if (token) {
    headers['X-CSRF-Token'] = token;
  }

  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError({
      code: 'network_error',
      message: 'Could not reach the server. Check your connection and try again.',
      status: 0,
    });
  }

  const text = await response.text();
  let payload = null;
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = null;
    }
  }

  if (response.ok) {
    return payload;
  }

  const err = payload && typeof payload === 'object' && payload.error ? payload.error : {};
  const retryHeader = response.headers.get('Retry-After');
  const retryAfter = retryHeader && /^\d+$/.test(retryHeader) ? Number(retryHeader) : undefined;
  throw new ApiError({
    code: err.code || `http_${response.status}`,
    message: err.message || FALLBACK_MESSAGES[response.status]
      || `Something went wrong on the server (error ${response.status}). Try again in a moment.`,
    fields: err.fields,
    status: response.status,
    retryAfter,
  });
}
