//! Imports one apt `Packages` index (any compression) and prints the time
//! and package count; run under `/usr/bin/time -v` for peak RSS:
//!
//! ```text
//! cargo run --release -p patchwatch-repos --example apt_import -- PATH [RUNS]
//! ```

use std::time::Instant;

use patchwatch_repos::apt::{Expected, read_index_file};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: apt_import PATH [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(1);
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let packages = match read_index_file(path.as_ref(), Expected::default()) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        times.push(start.elapsed().as_secs_f64());
        println!(
            "{} packages in {:.3} s",
            packages.len(),
            times[times.len() - 1]
        );
    }
    times.sort_by(f64::total_cmp);
    println!("median {:.3} s over {runs} runs", times[runs / 2]);
}
