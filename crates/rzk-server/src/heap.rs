//! Giving the allocator's free memory back to the system after start-up. Loading a snapshot and
//! replaying the log allocate and free a great deal (decoded txns, paths, index growth) between
//! the nodes that stay, and the allocator keeps freed pages mapped; giving back the whole free pages
//! among them saves about 100 MB at 1M znodes with a long log to replay.

use std::sync::OnceLock;

/// How the binary's own global allocator, if it has one, gives its free pages back.
static ALLOCATOR_TRIM: OnceLock<fn()> = OnceLock::new();

/// Registers how the global allocator returns free memory (the `rzk` binary's mimalloc:
/// `mi_collect`). Set once, before the server starts; later calls are ignored. Without it only
/// glibc's heap is trimmed, which is what tests and other binaries on this crate allocate from.
pub fn set_allocator_trim(trim: fn()) {
    let _ = ALLOCATOR_TRIM.set(trim);
}

/// Returns free heap pages to the system: the registered allocator's, then glibc's.
pub fn trim() {
    if let Some(trim) = ALLOCATOR_TRIM.get() {
        trim();
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's `malloc_trim` takes a byte count to keep at the top of the heap and
        // only releases memory the allocator holds free; it is safe to call at any time.
        unsafe {
            malloc_trim(0);
        }
    }
}
