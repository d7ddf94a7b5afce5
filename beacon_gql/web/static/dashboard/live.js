// A small graphql-transport-ws client for one subscription, which reconnects with backoff.
//
// Protocol (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md):
//   client: connection_init {payload}  -> server: connection_ack
//   client: subscribe {id, payload: {query, variables}}
//   server: next {id, payload} ... then complete {id}, or error {id, payload: [GraphQLError]}
//   either side: ping -> pong
// When the socket drops, it connects again after 0.5 s, 1 s, 2 s, ... (at most maxDelayMs,
// with jitter) and subscribes afresh; the server starts every subscription with a snapshot,
// so the caller resumes from exact state and nothing is lost.

import { getToken } from "./api.js";

const PROTOCOL = "graphql-transport-ws";
const CLIENT_PING_MS = 15000;
// The server pings every 15 s; a socket silent for this long is dead even if still "open".
const SILENCE_LIMIT_MS = 45000;
// Close codes the server uses when it refuses the connection itself (bad or missing token).
const REFUSED_CODES = new Set([4401, 4403]);

export function websocketUrl(path = "/graphql") {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}

export class LiveSubscription {
  /**
   * @param {object} options
   * @param {string} options.query the subscription document
   * @param {object} options.variables
   * @param {(payload: object) => void} options.onNext  every `next` payload ({data, errors})
   * @param {(state: string, detail: object) => void} options.onState
   *   connecting | live | reconnecting | finished | unauthorized | failed | stopped
   * @param {(errors: object[]) => boolean} [options.onError]
   *   an `error` message; return true to reconnect, false to give up
   * @param {() => void} [options.onComplete] the server ended the stream
   */
  constructor({ query, variables, onNext, onState, onError, onComplete, baseDelayMs = 500, maxDelayMs = 8000, url }) {
    this.query = query;
    this.variables = variables;
    this.onNext = onNext;
    this.onState = onState || (() => {});
    this.onError = onError || (() => true);
    this.onComplete = onComplete || (() => {});
    this.baseDelayMs = baseDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.url = url || websocketUrl();
    this.ws = null;
    this.state = "idle";
    this.failures = 0;
    this.connections = 0;
    this.everLive = false;
    this.stopped = false;
    this.finished = false;
    this.nextId = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.watchdog = null;
    this.lastMessageAt = 0;
    this._wake = () => {
      if (this.state === "reconnecting" && !this.ws) this._connect();
    };
  }

  start() {
    this.stopped = false;
    this.finished = false;
    window.addEventListener("online", this._wake);
    document.addEventListener("visibilitychange", this._wake);
    this._connect();
    return this;
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this._wake);
    document.removeEventListener("visibilitychange", this._wake);
    this._teardown(1000, "stopped");
    this._setState("stopped");
  }

  /** Drop the current socket (if any) and connect again now, e.g. after a token change. */
  restart() {
    this._teardown(1000, "restart");
    this.failures = 0;
    this.stopped = false;
    this.finished = false;
    this._connect();
  }

  _setState(state, detail = {}) {
    this.state = state;
    this.onState(state, { failures: this.failures, connections: this.connections, ...detail });
  }

  _connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.stopped || this.finished) return;
    this._setState(this.everLive ? "reconnecting" : "connecting", { connectingNow: true });
    let ws;
    try {
      ws = new WebSocket(this.url, PROTOCOL);
    } catch {
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.connections += 1;
    const opId = String(++this.nextId);
    this.lastMessageAt = Date.now();

    ws.onopen = () => {
      const token = getToken();
      this._send(ws, { type: "connection_init", payload: token ? { token } : {} });
    };
    ws.onmessage = (event) => {
      if (this.ws !== ws) return;
      this.lastMessageAt = Date.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        this._drop(ws, 4400, "unparseable message");
        return;
      }
      switch (message.type) {
        case "connection_ack":
          this._send(ws, {
            id: opId,
            type: "subscribe",
            payload: { query: this.query, variables: this.variables },
          });
          this._startTimers(ws);
          break;
        case "ping":
          this._send(ws, { type: "pong", payload: message.payload });
          break;
        case "pong":
          break;
        case "next":
          if (message.id !== opId) return;
          this.failures = 0;
          if (this.state !== "live") {
            this.everLive = true;
            this._setState("live");
          }
          this.onNext(message.payload || {});
          break;
        case "error": {
          if (message.id !== opId) return;
          const errors = Array.isArray(message.payload) ? message.payload : [message.payload];
          const retry = this.onError(errors);
          if (retry) this._drop(ws, 1000, "subscription error");
          else {
            this.finished = true;
            this._teardown(1000, "subscription error");
            this._setState("failed", { errors });
          }
          break;
        }
        case "complete":
          if (message.id !== opId) return;
          this.finished = true;
          this._teardown(1000, "complete");
          this._setState("finished");
          this.onComplete();
          break;
        default:
          break; // unknown message types are ignored, as the protocol allows
      }
    };
    ws.onerror = () => {
      // Always followed by close, which decides what to do.
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this._clearTimers();
      this.ws = null;
      if (this.stopped || this.finished) return;
      if (REFUSED_CODES.has(event.code)) {
        this._setState("unauthorized", { code: event.code, reason: event.reason });
        return;
      }
      this._scheduleReconnect({ code: event.code, reason: event.reason });
    };
  }

  _send(ws, message) {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  _startTimers(ws) {
    this._clearTimers();
    this.pingTimer = setInterval(() => this._send(ws, { type: "ping" }), CLIENT_PING_MS);
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastMessageAt > SILENCE_LIMIT_MS) this._drop(ws, 4408, "silent");
    }, 5000);
  }

  _clearTimers() {
    clearInterval(this.pingTimer);
    clearInterval(this.watchdog);
    this.pingTimer = null;
    this.watchdog = null;
  }

  /** Forget this socket without waiting for its close handshake, and reconnect. */
  _drop(ws, code, reason) {
    if (this.ws !== ws) return;
    this._teardown(code, reason);
    this._scheduleReconnect({ code, reason });
  }

  _teardown(code, reason) {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this._clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      try {
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
          ws.close(code >= 4000 || code === 1000 ? code : 1000, reason);
        }
      } catch {
        // already closing
      }
    }
  }

  _scheduleReconnect(detail = {}) {
    if (this.stopped || this.finished) return;
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** this.failures);
    const delay = Math.round(ceiling * (0.75 + Math.random() * 0.5));
    this.failures += 1;
    this._setState("reconnecting", { ...detail, delay, retryAt: Date.now() + delay });
    this.retryTimer = setTimeout(() => this._connect(), delay);
  }
}
