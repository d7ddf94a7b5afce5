// GraphQL over HTTP, and the optional read token (BEACON_READ_TOKEN) kept in localStorage.

const TOKEN_KEY = "beacon_gql.readToken";

export function getToken() {
  try {
    return window.localStorage.getItem(TOKEN_KEY) || null;
  } catch {
    return null; // storage disabled: no token
  }
}

export function setToken(token) {
  try {
    if (token) window.localStorage.setItem(TOKEN_KEY, token);
    else window.localStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lasts as long as nothing, which is the honest outcome
  }
  window.dispatchEvent(new CustomEvent("beacon:token-changed"));
}

/** A GraphQL error response, a transport failure, or a missing/bad token. */
export class ApiError extends Error {
  constructor(message, { code = null, status = null, errors = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.code = code; // extensions.code, or UNAUTHENTICATED / NETWORK
    this.status = status; // HTTP status, when there was a response
    this.errors = errors;
  }

  get needsToken() {
    return this.code === "UNAUTHENTICATED" || this.status === 401;
  }
}

export async function graphql(query, variables = {}, { signal } = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
      signal,
      cache: "no-store",
    });
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new ApiError("the server cannot be reached", { code: "NETWORK" });
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`the server answered ${response.status} without JSON`, {
      status: response.status,
      code: response.status === 401 ? "UNAUTHENTICATED" : "NETWORK",
    });
  }
  if (body && Array.isArray(body.errors) && body.errors.length) {
    const first = body.errors[0];
    const code = (first.extensions && first.extensions.code) || null;
    throw new ApiError(first.message || "GraphQL error", {
      code: code || (response.status === 401 ? "UNAUTHENTICATED" : null),
      status: response.status,
      errors: body.errors,
    });
  }
  if (!response.ok) {
    throw new ApiError(`the server answered ${response.status}`, { status: response.status });
  }
  return body.data;
}
