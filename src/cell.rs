//! `RefCell` whose misuse traps instead of formatting a panic message.
//!
//! `RefCell::borrow_mut` panics with "already borrowed", and that message's formatting (with the
//! bounds-check and layout panics) keeps ~3 KB of `core::fmt` in every download, although the npm
//! build's panic handler only traps and never prints. Our borrows are never nested (the driver
//! queues actions instead of re-entering), so a failed borrow is a bug in this crate, and a trap
//! is what the panic would have become anyway.

use core::cell::{Ref, RefCell, RefMut};

/// Stops the wasm instance: for states this crate's own logic rules out.
#[cold]
pub fn trap() -> ! {
    core::arch::wasm32::unreachable()
}

/// A `RefCell` that traps on a conflicting borrow.
#[derive(Default)]
pub struct Shared<T>(RefCell<T>);

impl<T> Shared<T> {
    pub const fn new(v: T) -> Self {
        Shared(RefCell::new(v))
    }

    pub fn borrow(&self) -> Ref<'_, T> {
        self.0.try_borrow().unwrap_or_else(|_| trap())
    }

    pub fn borrow_mut(&self) -> RefMut<'_, T> {
        self.0.try_borrow_mut().unwrap_or_else(|_| trap())
    }
}
