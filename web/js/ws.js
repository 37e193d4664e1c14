// The live stream: one WebSocket to /api/v1/stream (RFC 6455) shared by all
// pages. Pages subscribe to a topic ("threats", "metrics", ...) with a
// callback; the socket reconnects with backoff. When the daemon does not
// offer the stream (not in its OpenAPI description) or the socket is down,
// the state is "polling" and pages fall back to polling the REST API.
//
// Protocol (docs/api.md, "WebSocket stream"): the server says
// {"type":"hello"}; we send {"type":"auth","key":KEY} (a browser cannot set
// an Authorization header on a WebSocket) and wait for
// {"type":"authenticated"}; then {"type":"subscribe","topics":[...]}
// (or {"type":"unsubscribe"} when no page wants anything). Messages:
// {"type":"threat","event":"created"|"updated","threat":{...}} (topic
// "threats"), {"type":"metrics", ...} (topic "metrics"), {"type":"error"}.
import { capabilities, session } from "./api.js";

const STREAM_PATH = "/api/v1/stream";
// message type -> the topic it belongs to
const TOPIC_OF = { threat: "threats", metrics: "metrics", response: "responses", agent: "agents" };

class Stream {
  constructor() {
    this.ws = null;
    this.state = "off"; // off | connecting | live | polling
    this.subs = new Map(); // topic -> Set(fn)
    this.stateFns = new Set();
    this.retry = 0;
    this.timer = null;
    this.wanted = false;
  }

  onState(fn) {
    this.stateFns.add(fn);
    fn(this.state);
  }

  setState(s) {
    if (s === this.state) return;
    this.state = s;
    for (const fn of this.stateFns) fn(s);
  }

  get live() {
    return this.state === "live";
  }

  /** subscribe(topic, fn) -> unsubscribe(). fn(message) for each message of the topic. */
  subscribe(topic, fn) {
    if (!this.subs.has(topic)) this.subs.set(topic, new Set());
    this.subs.get(topic).add(fn);
    this.sendSubscription();
    return () => {
      this.subs.get(topic)?.delete(fn);
      // let the server stop sending what nobody shows (after a page change
      // the next page subscribes in the same tick)
      setTimeout(() => this.sendSubscription(), 0);
    };
  }

  async start() {
    if (this.wanted) return;
    this.wanted = true;
    let caps;
    try {
      caps = await capabilities();
    } catch {
      caps = null;
    }
    if (!this.wanted) return;
    if (!caps || !caps.has(STREAM_PATH) || typeof WebSocket === "undefined") {
      this.setState("polling");
      return;
    }
    this.connect();
  }

  stop() {
    this.wanted = false;
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close(1000, "logout");
    }
    this.ws = null;
    this.setState("off");
  }

  connect() {
    const key = session.key;
    if (!key || !this.wanted) return;
    const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${STREAM_PATH}`;
    this.setState("connecting");
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.setState("polling");
      return;
    }
    this.ws = ws;
    this.authed = false;
    this.lastSub = null;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "auth", key }));
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg.type === "authenticated") {
        this.authed = true;
        this.retry = 0;
        this.sendSubscription();
        this.setState("live");
        return;
      }
      if (msg.type === "error") {
        console.warn("stream:", msg.error?.code, msg.error?.message);
        return;
      }
      const fns = this.subs.get(TOPIC_OF[msg.type] || msg.type);
      if (fns) for (const fn of fns) fn(msg);
    };
    ws.onclose = () => {
      this.ws = null;
      if (!this.wanted) return;
      this.setState("polling");
      const delay = Math.min(30000, 1000 * 2 ** this.retry++);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  sendSubscription() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || !this.authed) return;
    const topics = [...this.subs.entries()].filter(([, s]) => s.size).map(([t]) => t);
    const msg = topics.length ? { type: "subscribe", topics } : { type: "unsubscribe" };
    const text = JSON.stringify(msg);
    if (text === this.lastSub) return;
    this.lastSub = text;
    this.ws.send(text);
  }
}

export const stream = new Stream();
