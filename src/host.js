// The JS the wasm calls besides the browser's own API: guarded calls into user code, one-call type
// tests, and the page. Each function replaces several wasm-bindgen imports (and their glue), or a
// `catch` import's generic `handleError` path; src/host.rs says why each exists. Nothing here
// decides anything: failures come back as numbers and the Rust side decides what they mean.

let caught;

// f(JSON.parse(e.data), e): 0 ran, 1 not JSON (or a binary frame), 2 the callback threw. For text
// that is not JSON the SyntaxError is kept for take_caught.
// A relayed frame for callbacks that take no event (subscriber.rs: building a MessageEvent costs
// more than the rest of the delivery): parse and call in one crossing, as parse_call.
export function parse_call_data(f, d) {
  let v;
  try { v = JSON.parse(d); } catch (x) { caught = typeof d === "string" ? x : undefined; return 1; }
  try { f(v); return 0; } catch (x) { caught = x; return 2; }
}
export function parse_call(f, e) {
  let v;
  try { v = JSON.parse(e.data); } catch (x) { caught = typeof e.data === "string" ? x : undefined; return 1; }
  try { f(v, e); return 0; } catch (x) { caught = x; return 2; }
}

// f(a, b): 0 returned, 2 threw (the exception is kept for take_caught).
export function call2(f, a, b) { try { f(a, b); return 0; } catch (x) { caught = x; return 2; } }

// f(a): 0 returned (the value is kept for take_caught), 2 threw (the exception is kept).
export function call1(f, a) { try { caught = f(a); return 0; } catch (x) { caught = x; return 2; } }

// p.then(ok, err) through a handle that unthen() empties, so that the wasm may free ok and err
// before p settles (an abandoned attempt): 0 done (the handle is kept for take_caught), 2 threw
// (a patched or subclassed Promise; the exception is kept).
export function then(p, ok, err) {
  const h = { ok, err };
  try {
    p.then((v) => h.ok?.(v), (e) => h.err?.(e));
    caught = h;
    return 0;
  } catch (x) { caught = x; return 2; }
}
export function unthen(h) { h.ok = h.err = undefined; }

export function take_caught() { const x = caught; caught = undefined; return x; }

// What a value is, in one call: see Kind in src/host.rs for the numbers.
export function kind(v) {
  const t = typeof v;
  if (v === undefined) return 0;
  if (v === null) return 1;
  if (t === "boolean") return 2;
  if (t === "number") return 3;
  if (t === "string") return 4;
  if (t === "function") return 5;
  if (t !== "object") return 9;
  if (Array.isArray(v)) return 6;
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v) || (typeof Blob === "function" && v instanceof Blob)) return 7;
  if (v instanceof Promise) return 8;
  // 10: a plain object (its prototype is a realm's Object.prototype, or none); 12: an instance of
  // some class (URLSearchParams, Map, Date, ...).
  const p = Object.getPrototypeOf(v);
  return p === null || Object.getPrototypeOf(p) === null ? 10 : 12;
}

// kind(o[k]), the value kept for take_caught; 11 when reading it threw.
export function read(o, k) {
  try { caught = o[k]; } catch (_) { caught = undefined; return 11; }
  return kind(caught);
}

export function error(name, message, kind, cause, raw) {
  const e = name === "TypeError" ? new TypeError(message) : new Error(message);
  if (kind !== undefined) e.kind = kind;
  if (cause !== undefined) e.cause = cause;
  if (raw !== undefined) e.raw = raw;
  return e;
}

export function close_info(willReconnect, delay) { return { willReconnect, delay }; }
export function reconnect_info(attempt, delay) { return { attempt, delay }; }
export function stats(closures, connections, allocations, heapBytes, memory) {
  return { closures, connections, allocations, heapBytes, memory: memory.buffer.byteLength };
}

export function close_event(code, reason) {
  return typeof CloseEvent === "function" ? new CloseEvent("close", { code, reason, wasClean: true }) : undefined;
}

// console.error(a[, b]) or console.log(a), and never a throw: a page (or a test runner) may have
// replaced the console with something that throws, and that must not unwind through the wasm
// while a connection is performing its actions.
export function log(error, a, b) {
  try {
    const c = globalThis.console;
    if (!error) c.log(a); else if (b === undefined) c.error(a); else c.error(a, b);
  } catch (_) {}
}

// The string claim `key` of the JWT `token` (its middle part: base64url of UTF-8 JSON), else
// undefined; never throws. The signature is the server's business, not read here.
export function claim(token, key) {
  try {
    const p = token.split(".");
    if (p.length !== 3) return undefined;
    const bytes = Uint8Array.from(atob(p[1].replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    const v = JSON.parse(new TextDecoder().decode(bytes))[key];
    return typeof v === "string" ? v : undefined;
  } catch (_) { return undefined; }
}

// new URL(url, location.href).href without its fragment (the browser's own URL parser resolves a
// page-relative reference), else undefined: no page location, or no URL comes out.
export function page_url(url) {
  try {
    const u = new URL(url, globalThis.location.href);
    u.hash = "";
    return u.href;
  } catch (_) { return undefined; }
}
export function visible() { return globalThis.document?.visibilityState === "visible"; }
export function listen(n, f) { globalThis.addEventListener?.(n, f); }
export function listen_doc(n, f) { globalThis.document?.addEventListener(n, f); }

// Sharing across tabs (src/tablink.rs): one key's Web Lock and BroadcastChannel. undefined where
// the browser has no navigator.locks (not a secure context) or no BroadcastChannel.
export function tabs_link(name, heard, granted, lost) {
  const g = globalThis;
  if (!g.isSecureContext || !g.navigator?.locks || typeof g.BroadcastChannel !== "function") return undefined;
  try {
    const ch = new BroadcastChannel(name);
    // One crossing per word, its five parts as arguments (no Array reads from wasm).
    ch.onmessage = (e) => { const d = e.data; if (Array.isArray(d)) l.heard?.(d[0], d[1], d[2], d[3], d[4]); };
    const l = { ch, name, heard, granted, lost, req: undefined };
    return l;
  } catch (_) { return undefined; }
}

// Asks for the link's lock, or takes it from its holder (steal). A newer request replaces the
// older (which hears nothing more): granted() runs while this one holds the lock, lost(stolen)
// when it ends otherwise (stolen: AbortError, i.e. another tab took it).
export function tabs_lock(l, steal) {
  tabs_unlock(l);
  const r = { ctl: new AbortController(), release: undefined, gone: false };
  l.req = r;
  const held = () => r.gone ? undefined : new Promise((res) => { r.release = res; l.granted?.(); });
  const failed = (e) => { if (!r.gone) { r.gone = true; l.lost?.(e?.name === "AbortError"); } };
  try {
    globalThis.navigator.locks.request(l.name, steal ? { steal: true } : { signal: r.ctl.signal }, held).catch(failed);
  } catch (e) { queueMicrotask(() => failed(e)); } // later, like every answer: never during the call
}

// Lets the lock go if held, and drops a pending request.
export function tabs_unlock(l) {
  const r = l.req;
  l.req = undefined;
  if (r && !r.gone) { r.gone = true; r.ctl.abort(); r.release?.(); }
}

// Whether the link's lock is held: granted, and neither let go nor taken (as far as this page
// has heard).
export function tabs_held(l) { const r = l.req; return !!(r && !r.gone && r.release); }

export function tabs_post(l, t, a, b, c, d) { try { l.ch.postMessage([t, a, b, c, d]); } catch (_) {} }

export function tabs_close(l) {
  tabs_unlock(l);
  l.ch.onmessage = null;
  try { l.ch.close(); } catch (_) {}
  l.heard = l.granted = l.lost = undefined;
}

// Microseconds on the wall clock, finer than Date.now(): a new leader's epoch.
export function tabs_now() { return Math.floor((performance.timeOrigin + performance.now()) * 1000); }

// A relayed frame as the MessageEvent a callback gets for its second argument.
export function message_event(data) { return new MessageEvent("message", { data }); }
// The open event a follower's onOpen gets when the leader's socket opens.
export function event(type) { return new Event(type); }
