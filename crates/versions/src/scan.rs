//! Finding the few bytes that structure a version (`:`, `-`, blanks and the
//! C string's NUL) eight bytes at a time.
//!
//! Splitting a version needs a pass over the whole string before any
//! comparison can start, and that pass was the largest single cost of a
//! comparison. Testing a 64-bit word against a byte value costs a handful
//! of integer operations, against eight compare-and-branch steps.

const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const ONES: u64 = 0x0101_0101_0101_0101;

/// High bit of each byte of the result set exactly where `x`'s byte is `c`.
/// (The masked add never carries across bytes, so there are no false hits.)
#[inline(always)]
fn matches(x: u64, c: u8) -> u64 {
    let y = x ^ (ONES * u64::from(c));
    !(((y & LOW7) + LOW7) | y | LOW7)
}

/// High bit set in each byte below 0x21 (exact, like [`matches`]).
#[inline(always)]
fn control_or_space(x: u64) -> u64 {
    !(((x & LOW7) + ONES * (0x80 - 0x21)) | x | LOW7)
}

#[inline(always)]
fn word(s: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&s[i..i + 8]);
    u64::from_le_bytes(w)
}

/// Byte offset of the lowest / highest flagged byte of a non-zero mask.
#[inline(always)]
fn first(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

#[inline(always)]
fn last(mask: u64) -> usize {
    ((63 - mask.leading_zeros()) / 8) as usize
}

/// Bits strictly below the lowest flagged byte of a non-zero mask.
#[inline(always)]
fn below_first(mask: u64) -> u64 {
    (mask & mask.wrapping_neg()) - 1
}

/// What dpkg's parser looks for, up to the first NUL.
#[derive(Clone, Copy)]
pub(crate) struct DebMarks {
    /// Length of the C string.
    pub(crate) len: usize,
    /// First `:`, or `usize::MAX`.
    pub(crate) colon: usize,
    /// Last `-`, or `usize::MAX`.
    pub(crate) hyphen: usize,
    /// Whether there is a space or tab.
    pub(crate) blank: bool,
}

#[inline]
pub(crate) fn deb_marks(s: &[u8]) -> DebMarks {
    let mut m = DebMarks {
        len: s.len(),
        colon: usize::MAX,
        hyphen: usize::MAX,
        blank: false,
    };
    let mut i = 0;
    while i + 8 <= s.len() {
        let x = word(s, i);
        // NUL, tab and space are all below 0x21; one test rules out all
        // three in the usual case.
        let (nul, blank) = if control_or_space(x) == 0 {
            (0, 0)
        } else {
            (matches(x, 0), matches(x, b' ') | matches(x, b'\t'))
        };
        let limit = if nul == 0 { u64::MAX } else { below_first(nul) };
        let colon = matches(x, b':') & limit;
        let hyphen = matches(x, b'-') & limit;
        let blank = blank & limit;
        if colon != 0 && m.colon == usize::MAX {
            m.colon = i + first(colon);
        }
        if hyphen != 0 {
            m.hyphen = i + last(hyphen);
        }
        m.blank |= blank != 0;
        if nul != 0 {
            m.len = i + first(nul);
            return m;
        }
        i += 8;
    }
    for (k, &c) in s[i..].iter().enumerate() {
        match c {
            0 => {
                m.len = i + k;
                return m;
            }
            b':' if m.colon == usize::MAX => m.colon = i + k,
            b'-' => m.hyphen = i + k,
            b' ' | b'\t' => m.blank = true,
            _ => {}
        }
    }
    m
}

/// Length of the C string and its last `-` (or `usize::MAX`): all rpm's and
/// libalpm's `parseEVR` need.
#[inline]
pub(crate) fn evr_marks(s: &[u8]) -> (usize, usize) {
    let mut dash = usize::MAX;
    let mut i = 0;
    while i + 8 <= s.len() {
        let x = word(s, i);
        let nul = matches(x, 0);
        let limit = if nul == 0 { u64::MAX } else { below_first(nul) };
        let hyphen = matches(x, b'-') & limit;
        if hyphen != 0 {
            dash = i + last(hyphen);
        }
        if nul != 0 {
            return (i + first(nul), dash);
        }
        i += 8;
    }
    for (k, &c) in s[i..].iter().enumerate() {
        match c {
            0 => return (i + k, dash),
            b'-' => dash = i + k,
            _ => {}
        }
    }
    (s.len(), dash)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time scans agree with a plain byte loop.
    #[test]
    fn scans_match_byte_loops() {
        let alphabet = [
            b'0', b'1', b':', b'-', b' ', b'\t', 0, b'a', 0x80, 0xff, 0x2c, 0x2e,
        ];
        let mut state = 0x1234_5678_9abc_def0u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 40) as usize;
            let s: Vec<u8> = (0..len)
                .map(|k| alphabet[((state >> (k % 50)) as usize + k * 7) % alphabet.len()])
                .collect();
            let c = s.iter().position(|&b| b == 0).unwrap_or(s.len());
            let body = &s[..c];
            let want_colon = body.iter().position(|&b| b == b':').unwrap_or(usize::MAX);
            let want_dash = body.iter().rposition(|&b| b == b'-').unwrap_or(usize::MAX);
            let want_blank = body.iter().any(|&b| b == b' ' || b == b'\t');
            let m = deb_marks(&s);
            assert_eq!(
                (m.len, m.colon, m.hyphen, m.blank),
                (c, want_colon, want_dash, want_blank),
                "{s:?}"
            );
            assert_eq!(evr_marks(&s), (c, want_dash), "{s:?}");
        }
    }
}
