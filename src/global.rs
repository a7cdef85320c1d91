//! Module-wide state without `thread_local!` (which needs std).
//!
//! A wasm instance built for `wasm32-unknown-unknown` without the `atomics` target feature has
//! exactly one thread, so a plain `static` holding a `Cell`/`RefCell` is sound there; the
//! `compile_error!` below keeps it that way if someone builds with shared memory.

#[allow(unused_imports)]
use crate::prelude::*;

#[cfg(target_feature = "atomics")]
compile_error!("event-socket's module-wide state assumes one thread: build without `atomics`");

/// A `static`'s value on a single-threaded wasm instance.
pub struct Global<T>(pub T);

// SAFETY: one thread (see the module docs), so no value is ever reached from two threads.
unsafe impl<T> Sync for Global<T> {}

impl<T> core::ops::Deref for Global<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
