// event-socket from a plain ES module, no bundler: the package's files sit in ./pkg/.
//
// By default the page talks to the server that serves it: `/ws/events`, with a token from
// `/dev/token?instance=demo` (event-server's development endpoint). `?ws=ws://host:port/ws/events`
// and `?token=JWT` point it at another server instead.
import init, { configure, socket } from "./pkg/event_socket.js";

const $ = (sel) => document.querySelector(sel);
const MAX_ROWS = 50;

/** Appends one line of text (never markup: the demo messages contain HTML on purpose). */
function show(list, kind, text) {
  const li = document.createElement("li");
  li.dataset.event = kind;
  li.textContent = text;
  list.prepend(li);
  while (list.children.length > MAX_ROWS) list.lastElementChild.remove();
}

const isJson = (data) =>
  data !== null && typeof data === "object" && !(data instanceof ArrayBuffer) && !(data instanceof Blob);

async function devToken() {
  const res = await fetch("/dev/token?instance=demo");
  if (!res.ok) throw new Error(`GET /dev/token: HTTP ${res.status}`);
  return (await res.json()).token;
}

async function main() {
  await init(); // fetches ./pkg/event_socket_bg.wasm (next to event_socket.js)

  const query = new URLSearchParams(location.search);
  configure({
    url: query.get("ws") || "/ws/events",
    token: query.get("token") || devToken,
    onError: (err) => show($("#errors"), err.kind, `${err.kind}: ${err.message}`),
  });

  socket(
    "connection.update",
    (data) => {
      if (isJson(data)) show($("#events"), "connection.update", `connection.update: ${data.state} (${data.statusReason})`);
    },
    {
      onStateChange: (state) => {
        $("#state").value = state;
        $("#state").dataset.state = state;
      },
    },
  );

  socket("messages.upsert", (data) => {
    if (!isJson(data)) return;
    const text = typeof data.content?.text === "string" ? data.content.text : JSON.stringify(data.content);
    show($("#events"), "messages.upsert", `messages.upsert: ${data.pushName}: ${text}`);
  });
}

main().catch((e) => show($("#errors"), "startup", `startup: ${e?.message ?? e}`));
