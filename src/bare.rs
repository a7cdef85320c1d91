//! The npm build's runtime (feature `bare`): what std would otherwise bring into the wasm.
//!
//! - The panic handler traps. Nothing input can reach panics (errors are `Result`s that become
//!   JavaScript exceptions or `onError` reports), and std's handler would only have formatted a
//!   message nobody sees before aborting all the same; its formatting code was most of the panic
//!   path's weight.
//! - The allocator is [`crate::heap`]'s size classes instead of dlmalloc.

#[cfg(feature = "std")]
compile_error!(
    "feature `bare` leaves std out, but `std` (or `serde`) brings it in: build the npm package's \
     wasm with `--no-default-features --features js,bare`"
);

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;

use crate::global::Global;
use crate::heap::{Heap, WasmPages};

#[panic_handler]
fn on_panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

struct SizeClasses(Global<UnsafeCell<Heap<WasmPages>>>);

// SAFETY: one thread (see `global`), and no method below can re-enter another (the heap calls
// nothing but `memory.grow`), so the `&mut` each one takes is the only one at a time.
unsafe impl GlobalAlloc for SizeClasses {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { (*self.0.get()).alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { (*self.0.get()).dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { (*self.0.get()).realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: SizeClasses = SizeClasses(Global(UnsafeCell::new(Heap::new(WasmPages))));
