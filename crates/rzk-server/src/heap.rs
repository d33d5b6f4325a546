//! Giving the allocator's free memory back to the system after start-up. Loading a snapshot and
//! replaying the log allocate and free a great deal (decoded txns, paths, index growth) between
//! the nodes that stay, and the allocator keeps freed pages mapped; giving back the whole free pages
//! among them saves about 100 MB at 1M znodes with a long log to replay.

/// Returns free heap pages to the system: mimalloc's (the `rzk` binary's allocator, which would
/// otherwise give them back only as it next allocates) and glibc's (the allocator of tests and of
/// any other binary built on this crate).
pub fn trim() {
    // SAFETY: `mi_collect` frees only memory mimalloc holds unused; it may be called from any
    // thread at any time, and does nothing much when mimalloc is not the allocator in use.
    unsafe {
        libmimalloc_sys::mi_collect(true);
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
