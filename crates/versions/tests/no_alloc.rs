//! `compare` must not allocate: it runs millions of times per report.
//!
//! A counting global allocator proves it. This is the only `unsafe` in the
//! package, confined to this test binary: implementing `GlobalAlloc` cannot
//! be done without it, and the library itself stays `forbid(unsafe_code)`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use patchwatch_versions::{Scheme, compare};

struct Counting;

thread_local! {
    // Per thread, so that the test harness's own threads do not count;
    // a const-initialised `Cell` needs no allocation of its own.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn compare_does_not_allocate() {
    let inputs = [
        "",
        "<unknown>",
        "1:2.36-9+deb12u4",
        "2.36-9+deb12u7",
        "1.0~rc1^git2-1.el9",
        "a:1",
        "1.0_rc1-r4",
        "1.2.3_p1~abc-r2",
        "1:2.40+r31+gd1b8ad6f5-1.1",
        "1.0\0x",
        "é",
        "..",
        "-",
        "99999999999999999999999:1",
        "1.0bc",
    ];
    let before = ALLOCATIONS.with(Cell::get);
    let mut checksum = 0i64;
    for scheme in [Scheme::Deb, Scheme::Rpm, Scheme::Apk, Scheme::Pacman] {
        for a in inputs {
            for b in inputs {
                checksum += compare(scheme, a, b) as i64;
            }
        }
    }
    let after = ALLOCATIONS.with(Cell::get);
    assert_eq!(after - before, 0, "compare allocated (checksum {checksum})");
    // The counter does see allocations made on this thread.
    let v = vec![checksum];
    assert!(ALLOCATIONS.with(Cell::get) > after, "{v:?}");
}
