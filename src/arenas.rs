//! glibc's allocator under an address-space limit (`ulimit -v`, RLIMIT_AS).
//!
//! glibc reserves 64 MiB of address space for each malloc arena and makes up to 8 arenas
//! per core as threads allocate: on 2 cores the reservations alone reach 1 GiB, so under
//! a 1 GiB limit Polars' own `scan_parquet` fails as a scan does, with memory to spare.
//! When a limit is set and the user has not chosen an arena count, the count is bounded
//! at import so that the reservations take at most an eighth of the limit.

/// Address space glibc reserves for each arena beyond the first (HEAP_MAX_SIZE on 64-bit).
#[cfg_attr(not(all(target_os = "linux", target_env = "gnu")), allow(dead_code))]
const ARENA_RESERVATION: u64 = 64 << 20;

/// The arena count to set under an address-space limit of `limit` bytes on `cores` cores,
/// or `None` where glibc's own count (8 per core) already fits in an eighth of it.
#[cfg_attr(not(all(target_os = "linux", target_env = "gnu")), allow(dead_code))]
pub fn arena_max(limit: u64, cores: u64) -> Option<u64> {
    let default = 8 * cores.max(1);
    let fitting = (limit / 8 / ARENA_RESERVATION).max(1);
    (fitting < default).then_some(fitting)
}

/// Bounds glibc's arena count when the process has an address-space limit and neither
/// `MALLOC_ARENA_MAX` nor a `GLIBC_TUNABLES` arena setting chose one. Returns the count
/// set, if any. Arenas made before the call stay; threads starting later share.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn bound_under_address_limit() -> Option<u64> {
    let chosen = std::env::var_os("MALLOC_ARENA_MAX").is_some()
        || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("malloc.arena_max"));
    if chosen {
        return None;
    }
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) } != 0 || limit.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let arenas = arena_max(limit.rlim_cur, cores)?;
    let value = libc::c_int::try_from(arenas).ok()?;
    // SAFETY: mallopt only sets a parameter of the allocator, and is thread-safe.
    (unsafe { libc::mallopt(libc::M_ARENA_MAX, value) } == 1).then_some(arenas)
}

/// Other allocators reserve no address space per arena.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn bound_under_address_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn reservations_take_an_eighth_of_the_limit() {
        assert_eq!(arena_max(GIB, 2), Some(2));
        assert_eq!(arena_max(4 * GIB, 16), Some(8));
        assert_eq!(arena_max(32 * GIB, 96), Some(64));
    }

    #[test]
    fn a_limit_that_fits_glibcs_count_changes_nothing() {
        assert_eq!(arena_max(8 * GIB, 2), None);
        assert_eq!(arena_max(64 * GIB, 16), None);
    }

    #[test]
    fn a_tiny_limit_keeps_one_arena() {
        assert_eq!(arena_max(256 << 20, 4), Some(1));
        assert_eq!(arena_max(0, 0), Some(1));
    }
}
