import { defineConfig } from "vite";

// `vite build` needs nothing special: Vite sees `new URL("event_socket_bg.wasm", import.meta.url)`
// in event-socket's glue and emits the .wasm as an asset.
export default defineConfig({
  // `vite` (dev): keep esbuild's dependency pre-bundling away from event-socket, or the glue moves
  // to node_modules/.vite/deps and its `import.meta.url` no longer points next to the .wasm.
  optimizeDeps: { exclude: ["event-socket"] },
  server: {
    // `vite` (dev): the page asks for /dev/token and /ws/events on its own origin; pass them on to
    // a local event-server (`cargo run -p event-server -- --simulate demo`).
    proxy: {
      "/dev": "http://127.0.0.1:8084",
      "/ws": { target: "ws://127.0.0.1:8084", ws: true },
    },
  },
  build: { outDir: "dist", emptyOutDir: true },
});
