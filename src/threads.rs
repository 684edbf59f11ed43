//! The threads reads and writes run on: Polars' count by default, and one rayon pool per
//! thread count, shared by everything that asks for that count.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use rayon::ThreadPool;

use crate::error::{AvroError, AvroResult};

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
pub fn pool(threads: usize) -> AvroResult<Arc<ThreadPool>> {
    static POOLS: LazyLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = LazyLock::new(Default::default);
    shared_pool(&POOLS, threads, "polars-avro")
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
        .build()
        .map_err(|e| AvroError::argument(format!("could not start {threads} threads: {e}")))?;
    let pool = Arc::new(pool);
    pools.insert(threads, pool.clone());
    Ok(pool)
}

/// What a caught panic said, for the error that replaces it.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".to_string())
}
