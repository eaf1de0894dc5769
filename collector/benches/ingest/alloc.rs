//! The counting allocator: live and peak heap bytes of the process, over the
//! allocator the `bootstrap` Lambda binary and the CLI use (jemalloc).

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

// What the binaries allocate with.
#[cfg(target_env = "msvc")]
use std::alloc::System as Inner;
#[cfg(not(target_env = "msvc"))]
use tikv_jemallocator::Jemalloc as Inner;

/// Counts live and peak heap bytes.
pub(crate) struct CountingAllocator;

/// Raises [`PEAK`] to `live`. Reading it first keeps the threads of a pass
/// from writing the same cache line on every allocation (a `fetch_max` is a
/// write even when it changes nothing): a profile of the batched fleet pass
/// had 3.9% of its samples in that `fetch_max`, a cost the binaries, which
/// count nothing, do not have.
fn raise_peak(live: usize) {
    if live > PEAK.load(Ordering::Relaxed) {
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

pub(crate) static LIVE: AtomicUsize = AtomicUsize::new(0);
pub(crate) static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { Inner.alloc(layout) };
        if !pointer.is_null() {
            raise_peak(LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size());
        }
        pointer
    }
    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { Inner.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { Inner.realloc(pointer, layout, new_size) };
        if !new.is_null() {
            if new_size > layout.size() {
                let grown = new_size - layout.size();
                raise_peak(LIVE.fetch_add(grown, Ordering::Relaxed) + grown);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;
