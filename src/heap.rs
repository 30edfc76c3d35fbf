//! The heap bytes this process holds: a counting allocator that a binary
//! installs, with an optional hard limit.
//!
//! Two users: `backprop bench` reads a step's peak from it, and a served
//! session (`backprop serve --max-memory`) runs under its limit, so that a
//! client asking for more than the server allows fails that allocation
//! instead of the kernel killing the server once the machine is full. Only a
//! binary can install it (`#[global_allocator] static A: CountingAllocator =
//! CountingAllocator;`); without it [`in_use`] and [`peak`] read 0 and no
//! limit applies.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Forwards every allocation to the system allocator, counting the bytes in
/// use and their peak, and refuses one that would take the bytes in use past
/// [`set_hard_limit`]'s limit.
pub struct CountingAllocator;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// `usize::MAX`: no limit.
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Heap bytes in use now (0 without the allocator installed).
pub fn in_use() -> usize {
    IN_USE.load(Ordering::SeqCst)
}

/// The most heap bytes in use since the last [`reset_peak`].
pub fn peak() -> usize {
    PEAK.load(Ordering::SeqCst)
}

/// Starts a new peak from the bytes in use now.
pub fn reset_peak() {
    PEAK.store(in_use(), Ordering::SeqCst);
}

/// Makes every later allocation that would take the bytes in use past
/// `bytes` fail (`None`: no limit). A failed allocation ends the process the
/// way Rust ends it on any allocation failure: "memory allocation of N bytes
/// failed" on stderr, then an abort; which is why only a process dedicated to
/// one client's session sets one.
pub fn set_hard_limit(bytes: Option<usize>) {
    LIMIT.store(bytes.unwrap_or(usize::MAX), Ordering::SeqCst);
}

/// Counts `grown` more bytes in use, or refuses them (counting nothing) when
/// they would pass the limit.
fn take(grown: usize) -> bool {
    let limit = LIMIT.load(Ordering::Relaxed);
    let before = IN_USE.fetch_add(grown, Ordering::Relaxed);
    let now = before.saturating_add(grown);
    if now > limit {
        IN_USE.fetch_sub(grown, Ordering::Relaxed);
        return false;
    }
    PEAK.fetch_max(now, Ordering::Relaxed);
    true
}

fn give_back(shrunk: usize) {
    IN_USE.fetch_sub(shrunk, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator, or
// answered with null (an allowed answer: allocation failed); the counters are
// only bookkeeping.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !take(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: same layout contract as our caller's.
        let ptr = unsafe { System.alloc(layout) };
        if ptr.is_null() {
            give_back(layout.size());
        }
        ptr
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !take(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: same layout contract as our caller's.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if ptr.is_null() {
            give_back(layout.size());
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        give_back(layout.size());
        // SAFETY: `ptr` was allocated by this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old_size = layout.size();
        if new_size > old_size && !take(new_size - old_size) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded with the caller's guarantees.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        match (moved.is_null(), new_size > old_size) {
            // A failed realloc keeps the old block: undo the growth counted.
            (true, true) => give_back(new_size - old_size),
            (false, false) => give_back(old_size - new_size),
            _ => {}
        }
        moved
    }
}
