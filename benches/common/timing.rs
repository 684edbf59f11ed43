//! The benchmarks' one timer.

use std::time::Instant;

/// The median of `runs` calls of `work`, in milliseconds. What a call returns is freed
/// after its time is taken, untimed, as a user's result is freed after the read.
pub fn median_ms<T>(runs: usize, mut work: impl FnMut() -> T) -> f64 {
    let mut times: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            let result = work();
            let ms = start.elapsed().as_secs_f64() * 1e3;
            drop(result);
            ms
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
