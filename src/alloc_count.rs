//! The JS build's allocator: std's own (`System`, dlmalloc on this target), counted, so that
//! `debugStats()` can say how many allocations and bytes are live. The page's wasm memory only
//! grows in 64 KiB pages and never shrinks, so it cannot show a leak of a few bytes per reconnect;
//! these counts can. Only with feature `js` (the npm build, where this crate is the whole
//! program): a library must not choose the allocator of the Rust apps that link it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Live allocations.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// Bytes in live allocations (as requested, not as the allocator rounds them).
static BYTES: AtomicUsize = AtomicUsize::new(0);

/// `System`, counted.
pub struct Counting;

// SAFETY: every call is passed to `System` unchanged; the counters are only read for reports.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(1, Relaxed);
            BYTES.fetch_add(layout.size(), Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(1, Relaxed);
            BYTES.fetch_add(layout.size(), Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(1, Relaxed);
        BYTES.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            BYTES.fetch_sub(layout.size(), Relaxed);
            BYTES.fetch_add(new_size, Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// (live allocations, bytes in them).
pub fn live() -> (usize, usize) {
    (LIVE.load(Relaxed), BYTES.load(Relaxed))
}
