//! Giving the allocator's free memory back to the system after start-up. Loading a snapshot and
//! replaying the log allocate and free a great deal (decoded txns, paths, index growth) between
//! the nodes that stay, and glibc's malloc keeps freed heap pages mapped; `malloc_trim` returns
//! the whole free pages among them (at 1M znodes with a long log to replay, about 100 MB).

/// Returns free heap pages to the system (glibc only; elsewhere nothing).
pub fn trim() {
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
