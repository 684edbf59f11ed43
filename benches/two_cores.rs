//! What two threads can get out of this machine's two cores, whatever the reader does: a
//! loop of arithmetic (eight independent chains, nothing past the core's own cache, no lock) timed
//! on one thread alone and on two at once, round after round. Where the two cores are two
//! cores, two threads each take the time of one. A virtual machine's two vCPUs can be run
//! on the two hardware threads of one physical core, which share its execution units: each
//! thread then takes longer, by as much as the loop keeps those units busy, and a read's
//! decoding, as busy, takes as much longer. 2 / (two's time / one's) bounds the two-thread
//! speed-up of any work that keeps a core busy, ours and the floor's (`benches/floor.rs`).
//!
//!     cargo bench --bench two_cores -- [--rounds 15]
//!
//! One JSON line: two threads' time over one's, its median and range over the rounds, and
//! the speed-up ceiling that the median allows.

use std::hint::black_box;
use std::thread;
use std::time::Instant;

/// Iterations of one timing: about half a second on a 2020s core.
const ITERATIONS: u64 = 300_000_000;

/// Eight chains of additions and xors, each step depending on the chain before it, so that
/// a core runs several at once: the loop keeps its execution units busy, as decoding does.
fn spin(iterations: u64) -> u64 {
    let mut x = [1u64, 2, 3, 4, 5, 6, 7, 8];
    for i in 0..iterations {
        for k in 0..8 {
            x[k] = x[k].wrapping_add(x[(k + 1) % 8] ^ i);
        }
        x = black_box(x);
    }
    x.iter().fold(0, |a, b| a ^ b)
}

/// Seconds until `threads` threads have each run the loop once.
fn timed(threads: usize) -> f64 {
    let start = Instant::now();
    let handles: Vec<_> = (0..threads).map(|_| thread::spawn(|| black_box(spin(ITERATIONS)))).collect();
    handles.into_iter().for_each(|h| {
        h.join().expect("the loop does not panic");
    });
    start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .map_or(15, |n| n.parse().expect("--rounds takes a number"));
    let mut ratios: Vec<f64> = (0..rounds).map(|_| timed(2) / timed(1)).collect();
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!(
        "{{\"rounds\": {rounds}, \"two_over_one\": {{\"median\": {median:.3}, \"min\": {:.3}, \"max\": {:.3}}}, \
         \"speed_up_ceiling\": {:.2}}}",
        ratios[0],
        ratios[ratios.len() - 1],
        2.0 / median
    );
}
