use crate::Scheme;

/// Why a version string is not acceptable to its package manager.
///
/// Every variant names the offending string so that a message logged far
/// from the call site still says which package version was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Nothing (or only blanks) where a version was expected.
    #[error("{scheme} version string is empty")]
    Empty {
        /// Scheme whose rules were applied.
        scheme: Scheme,
    },
    /// Whitespace inside the version.
    #[error("version '{version}' has embedded whitespace")]
    EmbeddedSpace {
        /// The rejected string.
        version: String,
    },
    /// A component that must not be empty is empty.
    #[error("{part} in version '{version}' is empty")]
    EmptyPart {
        /// The rejected string.
        version: String,
        /// `epoch`, `version number`, `revision`, `release`, `pkgver`, `pkgrel`.
        part: &'static str,
    },
    /// Text before the first `:` that is not a (decimal) number.
    #[error("epoch in version '{version}' is not a number")]
    EpochNotNumber {
        /// The rejected string.
        version: String,
    },
    /// A negative epoch (`-1:0`).
    #[error("epoch in version '{version}' is negative")]
    EpochNegative {
        /// The rejected string.
        version: String,
    },
    /// An epoch beyond what the tool stores.
    #[error("epoch in version '{version}' is too big (at most {max})")]
    EpochTooBig {
        /// The rejected string.
        version: String,
        /// Largest epoch the tool accepts.
        max: u64,
    },
    /// A `:` with nothing after it (`1:`).
    #[error("nothing after colon in version '{version}'")]
    NothingAfterColon {
        /// The rejected string.
        version: String,
    },
    /// A character the tool does not allow in that component.
    #[error("invalid character {ch:?} in {part} of version '{version}'")]
    InvalidChar {
        /// The rejected string.
        version: String,
        /// Which component holds it.
        part: &'static str,
        /// The character.
        ch: char,
    },
    /// rpmbuild forbids `..` in a version or release.
    #[error("{part} of version '{version}' contains the sequence \"..\"")]
    DoubleDot {
        /// The rejected string.
        version: String,
        /// `version` or `release`.
        part: &'static str,
    },
    /// makepkg wants `pkgrel` to be `N` or `N.M`.
    #[error("pkgrel in version '{version}' is not of the form 'integer[.integer]'")]
    BadPkgrel {
        /// The rejected string.
        version: String,
    },
    /// apk-tools' tokenizer stopped at `position` (a byte offset).
    #[error("apk version '{version}' is invalid at byte {position}: {reason}")]
    Apk {
        /// The rejected string.
        version: String,
        /// Byte offset where the tokenizer gave up.
        position: usize,
        /// What it expected there.
        reason: &'static str,
    },
}

/// A [`Scheme`] name that is not one of `deb`, `rpm`, `apk`, `pacman`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown version scheme '{input}' (expected deb, rpm, apk or pacman)")]
pub struct ParseSchemeError {
    /// What was given.
    pub input: String,
}

/// Why [`run_batch`](crate::run_batch) stopped.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// A non-blank line without exactly two whitespace-separated fields.
    #[error(
        "line {line}: expected two whitespace-separated versions, found {fields} field(s): {content:?}"
    )]
    Malformed {
        /// 1-based line number.
        line: u64,
        /// How many fields the line had.
        fields: usize,
        /// The line, without its terminator (lossily decoded if not UTF-8).
        content: String,
    },
    /// Reading the input or writing the output failed.
    #[error("version batch I/O failed: {0}")]
    Io(#[from] std::io::Error),
}
