//! Shared pieces of the differential tests: a deterministic generator of
//! version strings and the "tool missing" policy.
#![allow(dead_code)]

use std::cmp::Ordering;

const SAMPLE: &str = include_str!("../../benches/versions-sample.txt");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/versions");

/// When a reference tool is not installed: a failure in CI (which installs
/// them through `.ci/deps/versions.sh`), a notice and a skip elsewhere.
/// Returns normally only when the test should be skipped.
pub fn tool_missing(tool: &str, why: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{tool} is required when CI=true but is unusable: {why}");
    }
    notice(&format!(
        "NOTICE: skipping differential test against {tool}: {why}"
    ));
}

/// Writes to the real stderr: libtest captures `eprintln!` of passing
/// tests, and skips or differential counts should be visible in CI logs.
pub fn notice(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// SplitMix64: small, deterministic and good enough to pick test inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

/// Real versions of one scheme: the installed-package samples plus every
/// version appearing in the reference test vectors.
pub fn real_versions(scheme: &str) -> Vec<String> {
    let mut out: Vec<String> = SAMPLE
        .lines()
        .filter_map(|l| l.strip_prefix(scheme)?.strip_prefix(' '))
        .map(str::to_owned)
        .collect();
    let vector_file = match scheme {
        "deb" => Some("deb.txt"),
        "rpm" => Some("rpm.txt"),
        "apk" => Some("apk.txt"),
        _ => None,
    };
    if scheme == "pacman" {
        // Typical Arch spellings: VCS snapshots, dotted pkgrels, epochs.
        out.extend(
            [
                "1:2.3.4-1",
                "6.0.2-3",
                "2.40+r31+gd1b8ad6f5-1",
                "1.2.3.r45.gabcdef0-2",
                "2023.10.01-1",
                "5.15.3-1.1",
                "0.9.9.r2.g1234abc-1",
                "1.0rc1-1",
                "1.0-1",
                "3.2.post1-1",
                "2:1.0.0_beta2-4",
                "r1234.5678abc-1",
                "1.0.a-1",
                "1.0a-1",
                "1..0-1",
                "1.0.-1",
                "20230101-0.5",
            ]
            .map(str::to_owned),
        );
    }
    if let Some(file) = vector_file {
        let text = std::fs::read_to_string(format!("{DATA}/{file}")).unwrap_or_default();
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            out.extend(line.split(' ').step_by(2).map(str::to_owned));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Pieces that stress each comparator's corner cases.
const PIECES: &[&str] = &[
    "0",
    "1",
    "2",
    "9",
    "10",
    "00",
    "01",
    "007",
    "99999999999999999999",
    "18446744073709551616",
    "000000000000000000001",
    "a",
    "b",
    "z",
    "A",
    "Z",
    "rc",
    "alpha",
    "beta",
    "pre",
    "p",
    "git",
    "svn",
    "cvs",
    "hg",
    "deb12u1",
    "el9",
    "fc38",
    "dfsg",
    "ubuntu",
    ".",
    "..",
    "-",
    "+",
    "~",
    "^",
    "_",
    ":",
    "~~",
    "^^",
    "-r1",
    "-r0",
    "_rc1",
    "_p2",
    "_alpha",
    "~abc123",
    "+b1",
    "é",
    "%",
    "{",
    "@",
    "#",
];

/// A random string built from [`PIECES`], sometimes with an epoch.
pub fn random_version(rng: &mut Rng) -> String {
    let mut s = String::new();
    if rng.chance(15) {
        s.push_str(rng.pick(&["0:", "1:", "2:", "00:", "10:", ":", "a:"]));
    }
    if rng.chance(85) {
        s.push_str(rng.pick(&["0", "1", "2", "10", "01", "3"]));
    }
    for _ in 0..rng.below(6) {
        s.push_str(rng.pick(PIECES));
    }
    s
}

/// A small edit of `v`, so that pairs share prefixes and disagree late,
/// where the comparators' rules actually matter.
pub fn mutate(rng: &mut Rng, v: &str) -> String {
    let bytes = v.as_bytes();
    let cut = if v.is_empty() {
        0
    } else {
        rng.below(v.len() + 1)
    };
    let cut = (0..=cut)
        .rev()
        .find(|&c| v.is_char_boundary(c))
        .unwrap_or(0);
    let (head, tail) = v.split_at(cut);
    match rng.below(10) {
        0 => format!("{head}{}{tail}", rng.pick(PIECES)),
        1 => format!("{head}{}", rng.pick(PIECES)),
        2 => head.to_owned(),
        3 => format!(
            "{v}{}",
            rng.pick(&[
                "~rc1", "^git1", "+deb12u1", "-1", "-r1", "_p1", "a", ".0", "~", "^"
            ])
        ),
        4 => bump_digit(rng, v),
        5 => format!("{}:{v}", rng.pick(&["0", "1", "2"])),
        6 => v.replacen('.', rng.pick(&["_", "+", "..", "~", "^", "-"]), 1),
        7 if bytes.iter().any(u8::is_ascii_digit) => {
            let i = bytes.iter().position(u8::is_ascii_digit).unwrap();
            format!("{}0{}", &v[..i], &v[i..])
        }
        _ => {
            let mut rest = tail.chars();
            rest.next();
            format!("{head}{}", rest.as_str())
        }
    }
}

fn bump_digit(rng: &mut Rng, v: &str) -> String {
    let digits: Vec<usize> = v
        .bytes()
        .enumerate()
        .filter(|(_, c)| c.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    if digits.is_empty() {
        return format!("{v}1");
    }
    let i = rng.pick(&digits);
    let mut b = v.as_bytes().to_vec();
    b[i] = if b[i] == b'9' { b'0' } else { b[i] + 1 };
    String::from_utf8(b).unwrap()
}

/// `count` pairs mixing real versions, their edits, and random strings.
pub fn pairs(scheme: &str, seed: u64, count: usize) -> Vec<(String, String)> {
    let real = real_versions(scheme);
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let a = match rng.below(3) {
            0 => rng.pick(&real),
            1 => {
                let base = rng.pick(&real);
                mutate(&mut rng, &base)
            }
            _ => random_version(&mut rng),
        };
        let b = match rng.below(4) {
            0 => rng.pick(&real),
            1 => random_version(&mut rng),
            2 if rng.chance(30) => a.clone(),
            _ => mutate(&mut rng, &a),
        };
        let b = if rng.chance(10) {
            mutate(&mut rng, &b)
        } else {
            b
        };
        out.push((a, b));
    }
    out
}

pub fn symbol(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

pub fn from_sign(n: i64) -> Ordering {
    n.cmp(&0)
}
