//! The `rzk` binary's memory allocator: mimalloc, with transparent huge pages off for the
//! process. Everything the binary runs (server, cli, bench, tools) allocates through it; the
//! libraries and their tests keep the system allocator.
//!
//! Why mimalloc: in a setData profile on a tree of 1,000,000 znodes, glibc's malloc and free took
//! about a quarter of the server's samples (the core thread allocates txns and replies that the
//! connection and log threads free). With mimalloc, three alternated runs on the same machine
//! gave setData +10-50 %, create +40 % or more and getData +70 % or more (docs/performance.md).
//!
//! Why no huge pages: mimalloc asks for transparent huge pages on its arenas (`MADV_HUGEPAGE`), and
//! on the virtual machines measured a huge-page fault is slow: loading a data directory of
//! 1,000,000 znodes took 2.6-2.9 s with them and 1.96-1.98 s without (glibc: 1.99-2.1 s, same
//! hour), about a third of the time spent zeroing 2 MiB pages. Small pages cost nothing measurable
//! in throughput.

/// The global allocator of the `rzk` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Gives mimalloc's free pages back to the system (registered with `rzk_server::heap`, which
/// calls it once the database is loaded: mimalloc would otherwise return them only as it next
/// allocates on the thread that freed them).
pub fn collect() {
    // SAFETY: `mi_collect` frees only memory mimalloc holds unused; it may be called from any
    // thread at any time.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

/// Turns transparent huge pages off for this process (Linux `PR_SET_THP_DISABLE`; it also covers
/// memory already mapped with `MADV_HUGEPAGE`). Call first in `main`. Elsewhere, nothing.
pub fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        /// `PR_SET_THP_DISABLE` from linux/prctl.h.
        const PR_SET_THP_DISABLE: std::ffi::c_int = 41;
        unsafe extern "C" {
            fn prctl(option: std::ffi::c_int, ...) -> std::ffi::c_int;
        }
        // SAFETY: PR_SET_THP_DISABLE takes an integer flag and four unused zero arguments; it only
        // sets a flag on this process's memory map. A failure (an old kernel) leaves THP as it was.
        let _ = unsafe {
            prctl(
                PR_SET_THP_DISABLE,
                1 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
            )
        };
    }
}
