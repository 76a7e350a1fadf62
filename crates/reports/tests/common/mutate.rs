//! A seeded random-input harness for the network parsers, on stable Rust:
//! mutates real inputs (bit flips, byte edits, cuts, repeated chunks,
//! hostile tokens) and runs a parser on each for a bounded time, checking
//! that it never panics. The fuzz targets in `fuzz/` do the same with
//! libFuzzer's coverage guidance where a nightly toolchain is available.
//!
//! `PATCHWATCH_FUZZ_SECONDS` sets the time per parser (default 2);
//! `PATCHWATCH_FUZZ_SEED` replays a run.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// Inputs that have broken parsers before: terminal escapes, bidi and
/// zero-width characters, quotes, separators, huge numbers, a NUL.
const TOKENS: &[&[u8]] = &[
    b"\x1b[2J",
    b"\x07",
    "\u{202e}".as_bytes(),
    "\u{200b}".as_bytes(),
    "\u{0430}".as_bytes(),
    b"'",
    b"\"",
    b"\\",
    b"\r\n",
    b"\n",
    b"\t",
    b"#",
    b":",
    b"--",
    b"\x00",
    b"99999999999999999999",
    b"-1",
    b"{}",
    b"[]",
    b"\xff\xfe",
    b"%",
    b"=",
    b"&",
];

/// xorshift64*: deterministic, seedable, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// One to four random edits of `input`.
pub fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] = rng.next() as u8;
            }
            2 => out.truncate(at),
            3 => {
                let len = rng.below(64).min(out.len() - at);
                out.drain(at..at + len);
            }
            4 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
            5 if !out.is_empty() => {
                // A repeated chunk: long fields, repeated lines.
                let from = rng.below(out.len());
                let len = (1 + rng.below(256)).min(out.len() - from);
                let chunk = out[from..from + len].to_vec();
                for _ in 0..1 + rng.below(8) {
                    out.splice(at..at, chunk.iter().copied());
                }
            }
            _ => out.insert(at, rng.next() as u8),
        }
    }
    out
}

fn seconds() -> Duration {
    let secs = std::env::var("PATCHWATCH_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(2.0);
    Duration::from_secs_f64(secs)
}

fn seed() -> u64 {
    std::env::var("PATCHWATCH_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
}

/// Runs `parse` on mutations of `seeds` (and of earlier mutations) for the
/// configured time, at least `min_runs` times. A panic fails the test with
/// the seed and the input that caused it. Returns how many inputs ran.
pub fn run(name: &str, seeds: &[Vec<u8>], min_runs: usize, parse: impl Fn(&[u8])) -> usize {
    assert!(!seeds.is_empty(), "{name}: no seed inputs");
    let seed = seed();
    let mut rng = Rng::new(seed);
    let deadline = Instant::now() + seconds();
    let mut pool: Vec<Vec<u8>> = seeds.to_vec();
    let mut runs = 0;
    while runs < min_runs || Instant::now() < deadline {
        let base = &pool[rng.below(pool.len())];
        let input = mutate(&mut rng, base);
        if catch_unwind(AssertUnwindSafe(|| parse(&input))).is_err() {
            let shown = String::from_utf8_lossy(&input[..input.len().min(2000)]).into_owned();
            panic!(
                "{name}: the parser panicked (PATCHWATCH_FUZZ_SEED={seed}) on {} bytes: {shown:?}",
                input.len()
            );
        }
        // Keep some mutants as bases, so edits accumulate; the pool stays
        // small so the real inputs stay common.
        if pool.len() < 64 && rng.below(8) == 0 {
            pool.push(input);
        }
        runs += 1;
    }
    eprintln!("{name}: {runs} mutated inputs (PATCHWATCH_FUZZ_SEED={seed})");
    runs
}
