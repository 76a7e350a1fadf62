//! How a parsed snapshot is stored: JSON compressed with zstd, so a
//! repository's 60,000 packages take a few megabytes once and every host
//! using it shares them. The encoding is deterministic, so re-importing an
//! unchanged index is recognised by its SHA-256 and not stored again.

use patchwatch_repos::RepoSnapshot;
use sha2::{Digest, Sha256};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CodecError {
    #[error("encoding a repository snapshot: {0}")]
    Encode(#[source] std::io::Error),
    #[error("stored repository snapshot does not decompress: {0}")]
    Decompress(#[source] std::io::Error),
    #[error("stored repository snapshot does not decode: {0}")]
    Decode(#[source] serde_json::Error),
}

/// zstd level 3: fast to write, and decoding speed does not depend on it.
const LEVEL: i32 = 3;

/// The stored document and its hex SHA-256.
pub fn encode(snapshot: &RepoSnapshot) -> Result<(Vec<u8>, String), CodecError> {
    let json =
        serde_json::to_vec(snapshot).map_err(|e| CodecError::Encode(std::io::Error::other(e)))?;
    let document = zstd::encode_all(json.as_slice(), LEVEL).map_err(CodecError::Encode)?;
    let sha256 = hex::encode(Sha256::digest(&document));
    Ok((document, sha256))
}

pub fn decode(document: &[u8]) -> Result<RepoSnapshot, CodecError> {
    let json = zstd::decode_all(document).map_err(CodecError::Decompress)?;
    serde_json::from_slice(&json).map_err(CodecError::Decode)
}
