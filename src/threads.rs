//! The threads reads and writes run on: Polars' count by default, and one rayon pool per
//! thread count, shared by everything that asks for that count.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use rayon::ThreadPool;

use crate::error::{AvroError, AvroResult, ErrorKind};

/// The threads Polars would use: POLARS_MAX_THREADS, else one per core. Read once, as
/// Polars reads it once when its pool starts: asking the system for the cores reads
/// cgroup files, about a tenth of a small read's time.
pub fn default_threads() -> usize {
    static THREADS: LazyLock<usize> = LazyLock::new(|| {
        std::env::var("POLARS_MAX_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    });
    *THREADS
}

/// One pool per thread count, shared by every read and write asking for that count: reads
/// running at the same time (several scans in one streaming query) share threads instead
/// of each starting its own.
/// More than [`max_threads`] is refused (`n_threads` names the argument users pass).
pub fn pool(threads: usize) -> AvroResult<Arc<ThreadPool>> {
    static POOLS: LazyLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = LazyLock::new(Default::default);
    check_threads(threads, max_threads())?;
    shared_pool(&POOLS, threads, "polars-avro")
}

/// The most decoding threads a read or write starts: 4 per core, or Polars' own count
/// where POLARS_MAX_THREADS asks for more. More only take turns on the cores, and a typo
/// (100_000 for 10) would start threads one by one for minutes.
pub fn max_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (4 * cores).max(default_threads())
}

/// The threads a read or write runs on: `asked` (a user's `n_threads`), else Polars'
/// count; checked at once, before any work starts.
pub fn thread_count(asked: Option<usize>) -> AvroResult<usize> {
    if asked == Some(0) {
        return Err(AvroError::argument("n_threads must be at least 1, found 0"));
    }
    let threads = asked.unwrap_or_else(default_threads);
    check_threads(threads, max_threads())?;
    Ok(threads)
}

fn check_threads(threads: usize, most: usize) -> AvroResult<()> {
    if threads > most {
        return Err(AvroError::argument(format!(
            "n_threads must be at most {most} (4 per core, or POLARS_MAX_THREADS), found {threads}"
        )));
    }
    Ok(())
}

/// The pool files are opened on, apart from the decoding threads: opening waits on the
/// disk or the network, which must not hold a decoding thread. One per size, shared.
pub fn io_pool(threads: usize) -> AvroResult<Arc<ThreadPool>> {
    static POOLS: LazyLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = LazyLock::new(Default::default);
    shared_pool(&POOLS, threads, "polars-avro-io")
}

fn shared_pool(
    pools: &Mutex<HashMap<usize, Arc<ThreadPool>>>,
    threads: usize,
    name: &'static str,
) -> AvroResult<Arc<ThreadPool>> {
    let mut pools = pools.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pool) = pools.get(&threads) {
        return Ok(pool.clone());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("{name}-{i}"))
        .spawn_handler(|thread| {
            let mut builder = std::thread::Builder::new();
            if let Some(name) = thread.name() {
                builder = builder.name(name.to_string());
            }
            if let Some(size) = thread.stack_size() {
                builder = builder.stack_size(size);
            }
            builder.spawn(|| {
                thread.run();
                // The pools live as long as the process: a thread only gets here when its
                // pool could not start all of its threads. It stays, parked, instead of
                // ending: under an address-space limit the allocator may have failed to
                // set up this thread's arena, and jemalloc's clean-up of such a thread at
                // its end crashes the process (tcache_destroy).
                loop {
                    std::thread::park();
                }
            })?;
            Ok(())
        })
        .build()
        // The system refused (memory for the stacks, a thread limit): no argument is wrong.
        .map_err(|e| could_not_start(threads, &e.to_string(), crate::memory::address_space_limit()))?;
    let pool = Arc::new(pool);
    pools.insert(threads, pool.clone());
    Ok(pool)
}

/// The error of a pool whose threads the system would not start: under an address-space
/// limit, the memory of their stacks (an out-of-memory error, `AvroMemoryError`, naming the
/// limit); else an I/O error (a limit on threads).
fn could_not_start(threads: usize, why: &str, address_space_limit: Option<u64>) -> AvroError {
    let kind = if address_space_limit.is_some() { ErrorKind::OutOfMemory } else { ErrorKind::Io };
    let note = crate::memory::limit_note(address_space_limit);
    AvroError::new(kind, format!("could not start {threads} threads: {why}{note}"))
}

/// What a caught panic said, for the error that replaces it.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_the_system_would_not_start_are_out_of_memory_under_an_address_space_limit() {
        let limited = could_not_start(16, "Resource temporarily unavailable", Some(1 << 30));
        assert_eq!(limited.kind, ErrorKind::OutOfMemory);
        assert!(limited.message.contains("could not start 16 threads"), "{}", limited.message);
        assert!(limited.message.contains("limited to 1073741824 bytes"), "{}", limited.message);
        assert_eq!(could_not_start(16, "Resource temporarily unavailable", None).kind, ErrorKind::Io);
    }

    #[test]
    fn threads_past_the_bound_are_refused_naming_it() {
        assert!(check_threads(8, 8).is_ok());
        let message = check_threads(100_000, 8).unwrap_err().to_string();
        assert!(message.contains("n_threads must be at most 8"), "{message}");
        assert!(message.contains("found 100000"), "{message}");
        assert!(max_threads() >= 4 && max_threads() >= default_threads());
        assert!(pool(max_threads() + 1).is_err());
        assert!(thread_count(Some(max_threads() + 1)).is_err());
        assert!(thread_count(Some(0)).unwrap_err().to_string().contains("n_threads must be at least 1"));
        assert_eq!(thread_count(None).unwrap(), default_threads());
    }
}
