//! event-socket: a dependable browser WebSocket client for servers that push one event stream per
//! socket (the CodeChat / whatsapp-api style), written in Rust and compiled to WebAssembly.
//!
//! The decisions (when to connect, retry, give up, what to queue) live in [`machine`], plain Rust
//! tested natively; the browser side (`driver`, `hub`, `js`) only performs them.

#![warn(missing_docs)]

pub mod backoff;
pub mod events;
pub mod machine;
pub mod options;
pub mod payloads;
pub mod tabs;
pub mod url;

#[cfg(all(target_arch = "wasm32", feature = "js"))]
mod alloc_count;

#[cfg(target_arch = "wasm32")]
mod driver;
#[cfg(target_arch = "wasm32")]
mod errors;
#[cfg(target_arch = "wasm32")]
mod guarded;
#[cfg(target_arch = "wasm32")]
mod host;
#[cfg(target_arch = "wasm32")]
mod hub;
#[cfg(all(target_arch = "wasm32", feature = "js"))]
pub mod js;
/// A socket's messages as a `Stream` (feature `stream`): see [`stream::Messages`].
#[cfg(all(target_arch = "wasm32", feature = "stream"))]
pub mod stream;
#[cfg(target_arch = "wasm32")]
mod subscriber;
#[cfg(target_arch = "wasm32")]
mod tablink;

#[cfg(all(target_arch = "wasm32", feature = "js"))]
pub use js::{configure, socket, Subscription};

/// The Rust API (Leptos, Yew, Dioxus): see [`rust_api`].
#[cfg(target_arch = "wasm32")]
pub mod rust_api;
#[cfg(target_arch = "wasm32")]
pub use rust_api::{
    BinaryType, CloseInfo, ReconnectInfo, Role, Share, Socket, SocketBuilder, SocketError, State,
};
