//! Behaviour of the instrumentation crate seen from outside: what a wrapped
//! handler writes, and how context travels through every trigger.

mod support;

#[cfg(feature = "aws-sdk")]
mod aws_sdk_calls;
mod dependencies;
mod extraction;
#[cfg(feature = "lambda-runtime")]
mod failures;
#[cfg(feature = "lambda-runtime")]
mod functions;
mod handler_output;
#[cfg(feature = "lambda-runtime")]
mod http_status;
#[cfg(feature = "lambda-runtime")]
mod init_types;
#[cfg(feature = "lambda-runtime")]
mod lambda_layer;
#[cfg(feature = "lambda-runtime")]
mod layered;
#[cfg(feature = "lambda-runtime")]
mod memory;
#[cfg(feature = "lambda-runtime")]
mod runtime_api;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the bytes live on the heap.
pub struct CountingAllocator {
    live: AtomicUsize,
}

impl CountingAllocator {
    pub fn live_bytes(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }
}

// SAFETY: every call goes straight to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            self.live.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        self.live.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            self.live.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            self.live.fetch_sub(layout.size(), Ordering::Relaxed);
            self.live.fetch_add(new_size, Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
pub static ALLOCATOR: CountingAllocator = CountingAllocator {
    live: AtomicUsize::new(0),
};
