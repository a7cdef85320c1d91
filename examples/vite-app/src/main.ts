// event-socket used like any npm package: imported by name, typed, bundled by Vite.
import init, { configure, socket } from "event-socket";
import type { EventSocketError, MessagesUpsert, SocketState } from "event-socket";

const stateEl = document.querySelector<HTMLOutputElement>("#state")!;
const eventsEl = document.querySelector<HTMLOListElement>("#events")!;
const errorsEl = document.querySelector<HTMLOListElement>("#errors")!;
const MAX_ROWS = 50;

/** Appends one line of text (never markup: the demo messages contain HTML on purpose). */
function show(list: HTMLOListElement, kind: string, text: string): void {
  const li = document.createElement("li");
  li.dataset.event = kind;
  li.textContent = text;
  list.prepend(li);
  while (list.children.length > MAX_ROWS) list.lastElementChild?.remove();
}

/** A message's text (a text message's content is `{ text }`), else its JSON. */
function textOf(m: MessagesUpsert): string {
  return typeof m.content.text === "string" ? m.content.text : JSON.stringify(m.content);
}

/** Who sent it: the push name when WhatsApp has one, else the chat (by LID when it has no JID). */
function senderOf(m: MessagesUpsert): string {
  return m.pushName ?? m.keyRemoteJid ?? m.keyLid ?? "?";
}

async function devToken(instance: string): Promise<string> {
  const res = await fetch(`/dev/token?instance=${encodeURIComponent(instance)}`);
  if (!res.ok) throw new Error(`GET /dev/token: HTTP ${res.status}`);
  const body: unknown = await res.json();
  if (typeof body !== "object" || body === null || !("token" in body) || typeof body.token !== "string") {
    throw new Error("GET /dev/token: no token in the answer");
  }
  return body.token;
}

async function main(): Promise<void> {
  await init(); // fetches the .wasm that Vite emitted beside the bundle

  const onStateChange = (state: SocketState): void => {
    stateEl.value = state;
    stateEl.dataset.state = state;
  };
  const onError = (err: EventSocketError): void => show(errorsEl, err.kind, `${err.kind}: ${err.message}`);

  // A page-relative url: ws:// or wss:// on this page's host, whatever serves it.
  configure({ url: "/ws/events", token: () => devToken("demo"), onError });

  // The callbacks get CodeChat's payload types: no narrowing, no casts.
  socket(
    "connection.update",
    (update) => show(eventsEl, "connection.update", `connection.update: ${update.state} (${update.statusReason})`),
    { onStateChange },
  );

  socket("messages.upsert", (m) => show(eventsEl, "messages.upsert", `messages.upsert: ${senderOf(m)}: ${textOf(m)}`));
}

main().catch((e: unknown) => show(errorsEl, "startup", `startup: ${e instanceof Error ? e.message : String(e)}`));
