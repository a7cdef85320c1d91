//! The npm build's allocator: power-of-two size classes with a free list each, carved from pages
//! the wasm memory grows by.
//!
//! std brings dlmalloc (7 KB of wasm); without std (feature `bare`) the crate must bring its own,
//! and this one is a few hundred bytes. The program's heap is small and steady (connections,
//! options, URLs, queued handles: message bodies stay in JavaScript), so exact-fit classes that
//! are reused but never split or merged cost little memory and keep the code trivially correct:
//! a block only ever holds requests of its own class, and every block is aligned to its size (up
//! to a page), so any alignment a request of that class can ask for is met.
//!
//! The class logic is generic over where pages come from, so native tests drive it over a plain
//! buffer.

use core::alloc::Layout;
use core::ptr::null_mut;

/// Classes 2^3 ..= 2^30 bytes; index = log2 of the block size.
const CLASSES: usize = 31;
/// wasm pages are 64 KiB.
pub const PAGE: usize = 65536;

/// Where fresh memory comes from: `grow(pages)` returns the address of `pages * PAGE` new bytes.
pub trait Pages {
    /// Grows by `pages`; `None` when out of memory.
    fn grow(&mut self, pages: usize) -> Option<usize>;
}

/// The allocator's state: the free lists and the unused rest of the last grown region.
pub struct Heap<P> {
    free: [usize; CLASSES],
    next: usize,
    end: usize,
    pages: P,
}

/// The size class for a layout: log2 of the smallest power of two >= size, align and 8.
fn class_of(layout: Layout) -> Option<usize> {
    let n = layout
        .size()
        .max(layout.align())
        .max(8)
        .checked_next_power_of_two()?;
    let class = n.trailing_zeros() as usize;
    (class < CLASSES).then_some(class)
}

impl<P: Pages> Heap<P> {
    /// An empty heap drawing pages from `pages`.
    pub const fn new(pages: P) -> Self {
        Heap {
            free: [0; CLASSES],
            next: 0,
            end: 0,
            pages,
        }
    }

    /// A block for `layout`, or null when memory is exhausted.
    ///
    /// # Safety
    /// The free lists must only hold blocks this heap handed out and got back by `dealloc`.
    pub unsafe fn alloc(&mut self, layout: Layout) -> *mut u8 {
        let Some(class) = class_of(layout) else {
            return null_mut();
        };
        // `get_mut`, not indexing: a bounds check would bring core's panic formatting along.
        if let Some(head) = self.free.get_mut(class) {
            if *head != 0 {
                // A free block's first word links to the next free block of its class.
                let block = *head;
                *head = unsafe { *(block as *const usize) };
                return block as *mut u8;
            }
        }
        let size = 1usize << class;
        let align = size.min(PAGE);
        loop {
            let start = self.next.saturating_add(align - 1) & !(align - 1);
            if let Some(stop) = start.checked_add(size) {
                if stop <= self.end {
                    self.next = stop;
                    return start as *mut u8;
                }
            }
            let pages = (size + align).div_ceil(PAGE);
            let Some(base) = self.pages.grow(pages) else {
                return null_mut();
            };
            // Regions are contiguous unless someone else grew the memory in between.
            if base != self.end {
                self.next = base;
            }
            self.end = base.saturating_add(pages * PAGE);
        }
    }

    /// Takes a block back onto its class's free list.
    ///
    /// # Safety
    /// `ptr` came from `alloc` (or `realloc`) of this heap with the same `layout`.
    pub unsafe fn dealloc(&mut self, ptr: *mut u8, layout: Layout) {
        if let Some(head) = class_of(layout).and_then(|c| self.free.get_mut(c)) {
            unsafe { *(ptr as *mut usize) = *head };
            *head = ptr as usize;
        }
    }

    /// Resizes in place when the class stays the same, else moves.
    ///
    /// # Safety
    /// As for `dealloc`; `new_size` rounded up to `layout.align()` must not overflow `isize`.
    pub unsafe fn realloc(&mut self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new) = Layout::from_size_align(new_size, layout.align()) else {
            return null_mut();
        };
        if class_of(new) == class_of(layout) {
            return ptr;
        }
        let moved = unsafe { self.alloc(new) };
        if !moved.is_null() {
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        moved
    }
}

/// The wasm memory itself.
#[cfg(target_arch = "wasm32")]
pub struct WasmPages;

#[cfg(target_arch = "wasm32")]
impl Pages for WasmPages {
    fn grow(&mut self, pages: usize) -> Option<usize> {
        let before = core::arch::wasm32::memory_grow(0, pages);
        (before != usize::MAX).then(|| before * PAGE)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// Pages from a buffer of `limit` pages, like `memory.grow` with a maximum.
    struct Buf {
        mem: Vec<u8>,
        base: usize,
        used: usize,
        limit: usize,
        grown: usize,
    }

    impl Buf {
        fn new(limit: usize) -> Self {
            let mem = std::vec![0u8; (limit + 1) * PAGE];
            let base = (mem.as_ptr() as usize).next_multiple_of(PAGE);
            Buf {
                mem,
                base,
                used: 0,
                limit,
                grown: 0,
            }
        }
    }

    impl Pages for Buf {
        fn grow(&mut self, pages: usize) -> Option<usize> {
            if self.used + pages > self.limit {
                return None;
            }
            let at = self.base + self.used * PAGE;
            self.used += pages;
            self.grown += 1;
            assert!(at + pages * PAGE <= self.mem.as_ptr() as usize + self.mem.len());
            Some(at)
        }
    }

    fn layout(size: usize, align: usize) -> Layout {
        let l = Layout::from_size_align(size, align);
        assert!(l.is_ok(), "the tests ask for valid layouts only");
        l.unwrap_or(Layout::new::<u8>())
    }

    #[test]
    fn a_freed_block_is_reused_by_the_next_request_of_its_class() {
        let mut heap = Heap::new(Buf::new(4));
        unsafe {
            let a = heap.alloc(layout(100, 8));
            heap.dealloc(a, layout(100, 8));
            // 100 and 128 share the 128-byte class; 129 does not.
            assert_eq!(heap.alloc(layout(128, 4)), a);
            assert_ne!(heap.alloc(layout(129, 4)), a);
        }
    }

    #[test]
    fn realloc_within_a_class_stays_put_and_a_move_keeps_the_bytes() {
        let mut heap = Heap::new(Buf::new(4));
        unsafe {
            let l = layout(20, 4);
            let p = heap.alloc(l);
            for i in 0..20 {
                *p.add(i) = i as u8;
            }
            assert_eq!(heap.realloc(p, l, 32), p);
            let q = heap.realloc(p, l, 1000);
            assert_ne!(q, p);
            assert!((0..20).all(|i| *q.add(i) == i as u8));
        }
    }

    #[test]
    fn running_out_of_pages_gives_null_not_a_panic() {
        let mut heap = Heap::new(Buf::new(2));
        unsafe {
            assert!(!heap.alloc(layout(PAGE, 8)).is_null());
            assert!(heap.alloc(layout(4 * PAGE, 8)).is_null());
            assert!(heap.alloc(layout(1 << 40, 8)).is_null());
            // What fits still works after a refusal.
            assert!(!heap.alloc(layout(64, 8)).is_null());
        }
    }

    #[test]
    fn a_steady_workload_stops_growing_the_memory() {
        let mut heap = Heap::new(Buf::new(64));
        unsafe {
            for round in 0..1000 {
                let live: Vec<(*mut u8, Layout)> = (0..50)
                    .map(|i| {
                        let l = layout(8 + (i * 37) % 3000, 8);
                        (heap.alloc(l), l)
                    })
                    .collect();
                for (p, l) in live {
                    heap.dealloc(p, l);
                }
                if round == 0 {
                    heap.pages.grown = 0;
                }
            }
        }
        assert_eq!(heap.pages.grown, 0);
    }

    proptest! {
        /// Random allocations and frees: every block is aligned as asked, and no live block
        /// overlaps another (each is filled with its own byte and checked before it is freed).
        #[test]
        fn blocks_are_aligned_and_never_overlap(
            ops in proptest::collection::vec((1usize..5000, 0u32..7, any::<bool>()), 1..300)
        ) {
            let mut heap = Heap::new(Buf::new(256));
            let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
            for (n, (size, align_log, free_one)) in ops.into_iter().enumerate() {
                let tag = n as u8;
                if free_one && !live.is_empty() {
                    let (p, l, t) = live.swap_remove(n % live.len());
                    unsafe {
                        prop_assert!((0..l.size()).all(|i| *p.add(i) == t));
                        heap.dealloc(p, l);
                    }
                } else {
                    let l = layout(size, 1 << align_log);
                    let p = unsafe { heap.alloc(l) };
                    prop_assert!(!p.is_null());
                    prop_assert_eq!(p as usize % l.align(), 0);
                    unsafe { core::ptr::write_bytes(p, tag, l.size()) };
                    live.push((p, l, tag));
                }
            }
            for (p, l, t) in live {
                unsafe { prop_assert!((0..l.size()).all(|i| *p.add(i) == t)) };
            }
        }
    }
}
