// The classic hand-written client (the README's "before"): one WebSocket per event, JSON.parse, then
// the callback; a fixed-delay reconnect. The benchmark's baseline.
export function handSocket(url, event, token, callback) {
  let ws;
  let stopped = false;
  const sep = url.includes("?") ? "&" : "?";
  const connect = () => {
    ws = new WebSocket(`${url}${sep}event=${event}&token=${token}`);
    ws.onmessage = (e) => callback(JSON.parse(e.data), e);
    ws.onclose = () => {
      if (!stopped) setTimeout(connect, 1000);
    };
  };
  connect();
  return {
    get ws() {
      return ws;
    },
    send: (data) => ws.send(data),
    close() {
      stopped = true;
      ws.close();
    },
  };
}
