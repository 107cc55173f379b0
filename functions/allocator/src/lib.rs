//! The memory allocator of every personio-sync binary and benchmark: jemalloc, configured to
//! give freed pages back to the system at once (docs/decisions/0021-jemalloc.md).
//!
//! A binary links it with `use sync_allocator as _;`. Why not glibc's allocator: a run builds
//! millions of small strings and vectors while it frees the raw pages and employees it read, and
//! glibc's free lists fragmented under that mix (a 100,000-person dry run peaked at 262 MB RSS
//! with 227 MB in use, and malloc/free were a third of the engine's CPU time). jemalloc's size
//! classes keep that churn apart; with page decay at 0 what a run frees leaves its RSS at once.

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's start-up options, read by the (prefixed) jemalloc before the first allocation:
/// dirty and muzzy pages are returned at once instead of after 10 s, so a run's peak RSS is what
/// it holds, not what it held.
#[used]
#[export_name = "_rjem_malloc_conf"]
pub static MALLOC_CONF: &[u8; 34] = b"dirty_decay_ms:0,muzzy_decay_ms:0\0";

#[cfg(test)]
mod tests {
    #[test]
    fn the_options_are_a_nul_terminated_c_string() {
        let text = std::ffi::CStr::from_bytes_with_nul(super::MALLOC_CONF).unwrap();
        assert_eq!(text.to_str().unwrap(), "dirty_decay_ms:0,muzzy_decay_ms:0");
    }
}
