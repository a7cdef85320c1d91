//! event-socket: a dependable browser WebSocket client for servers that push one event stream per
//! socket (the CodeChat / whatsapp-api style), written in Rust and compiled to WebAssembly.
//!
//! The decisions (when to connect, retry, give up, what to queue) live in [`machine`], plain Rust
//! tested natively; the browser side (`driver`, `hub`, `js`) only performs them.

#![warn(missing_docs)]
// `no_std` (alloc only) so that the npm build (feature `bare`) can leave std out of the wasm: its
// panic and formatting machinery was a third of the binary. Apps that link std lose nothing.
#![no_std]

extern crate alloc;
// Natively (tests, tools) std is linked as usual; in wasm only with feature `std`, which brings
// the panic handler and allocator the `cdylib` needs; `bare` brings its own instead.
#[cfg(any(test, feature = "std", not(target_arch = "wasm32")))]
extern crate std;

#[cfg(all(target_arch = "wasm32", not(any(feature = "std", feature = "bare"))))]
compile_error!(
    "event-socket needs feature `std` (apps; on by default) or `bare` (the npm build's wasm)"
);

/// What std's prelude would give every module.
#[allow(unused_imports)]
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

#[macro_use]
pub mod text;
pub mod backoff;
pub mod machine;
pub mod options;
pub mod url;

#[cfg(all(target_arch = "wasm32", feature = "bare"))]
mod bare;
#[cfg(target_arch = "wasm32")]
mod cell;
#[cfg(target_arch = "wasm32")]
mod driver;
#[cfg(target_arch = "wasm32")]
mod errors;
#[cfg(target_arch = "wasm32")]
mod global;
#[cfg(target_arch = "wasm32")]
mod guarded;
#[cfg(any(
    all(test, not(target_arch = "wasm32")),
    all(target_arch = "wasm32", feature = "bare")
))]
mod heap;
#[cfg(target_arch = "wasm32")]
mod host;
#[cfg(target_arch = "wasm32")]
mod hub;
#[cfg(all(target_arch = "wasm32", feature = "js"))]
pub mod js;
#[cfg(target_arch = "wasm32")]
mod subscriber;

#[cfg(all(target_arch = "wasm32", feature = "js"))]
pub use js::{configure, socket, Subscription};

/// The Rust API (Leptos, Yew, Dioxus): see [`rust_api`].
#[cfg(target_arch = "wasm32")]
pub mod rust_api;
#[cfg(target_arch = "wasm32")]
pub use rust_api::{
    BinaryType, CloseInfo, ReconnectInfo, Socket, SocketBuilder, SocketError, State,
};
