//! Blobs (RFC 8620 §6, RFC 9404) with SHA-256 checked in the client.
//!
//! Every download is hashed as it streams and compared with the digest the server states (RFC 9404
//! `Blob/get` `digest:sha-256`) or, where the server states none, with the one recorded when the
//! blob was uploaded or first fetched. Bytes that do not match are never handed over.

use std::cell::RefCell;
use std::collections::HashMap;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::JmapError;

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    pub fn of(bytes: &[u8]) -> Self {
        Sha256Digest(Sha256::digest(bytes).into())
    }

    /// RFC 9404 states digests as base64 of the raw bytes.
    pub fn from_base64(text: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()?;
        Some(Sha256Digest(bytes.try_into().ok()?))
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sha256:{}", self.to_hex())
    }
}

/// Hashes a stream chunk by chunk, under a size cap.
pub struct StreamingSha256 {
    hasher: Sha256,
    bytes: u64,
    limit: u64,
}

impl StreamingSha256 {
    pub fn new(limit: u64) -> Self {
        StreamingSha256 { hasher: Sha256::new(), bytes: 0, limit }
    }

    pub fn update(&mut self, chunk: &[u8]) -> Result<(), JmapError> {
        self.bytes += chunk.len() as u64;
        if self.bytes > self.limit {
            return Err(JmapError::BlobTooLarge { limit: self.limit });
        }
        self.hasher.update(chunk);
        Ok(())
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn finish(self) -> Sha256Digest {
        Sha256Digest(self.hasher.finalize().into())
    }

    /// Finishes and compares with `expected`, when there is one.
    pub fn verify(self, blob_id: &str, expected: Option<Sha256Digest>) -> Result<Sha256Digest, JmapError> {
        let actual = self.finish();
        match expected {
            Some(expected) if expected != actual => Err(JmapError::BlobDigestMismatch {
                blob_id: blob_id.to_owned(),
                expected: expected.to_hex(),
                actual: actual.to_hex(),
            }),
            _ => Ok(actual),
        }
    }
}

/// Where digests recorded at upload or first download are kept (issue 4 backs it by IndexedDB).
pub trait DigestStore {
    fn get(&self, account_id: &str, blob_id: &str) -> Option<Sha256Digest>;
    fn put(&self, account_id: &str, blob_id: &str, digest: Sha256Digest);
}

/// An in-memory [`DigestStore`], for one session.
#[derive(Default)]
pub struct MemoryDigests(RefCell<HashMap<(String, String), Sha256Digest>>);

impl DigestStore for MemoryDigests {
    fn get(&self, account_id: &str, blob_id: &str) -> Option<Sha256Digest> {
        self.0.borrow().get(&(account_id.to_owned(), blob_id.to_owned())).copied()
    }

    fn put(&self, account_id: &str, blob_id: &str, digest: Sha256Digest) {
        self.0.borrow_mut().insert((account_id.to_owned(), blob_id.to_owned()), digest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn known_vectors_and_encodings() {
        let d = Sha256Digest::of(b"abc");
        assert_eq!(d.to_hex(), ABC);
        assert_eq!(d.to_base64(), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
        assert_eq!(Sha256Digest::from_base64(&d.to_base64()), Some(d));
        assert_eq!(Sha256Digest::from_base64("c2hvcnQ="), None, "wrong length");
        assert_eq!(Sha256Digest::from_base64("%%%"), None);
    }

    #[test]
    fn streaming_equals_one_shot_for_any_chunking() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let whole = Sha256Digest::of(&data);
        for chunk in [1, 63, 64, 65, 1000, 65_536, 100_000] {
            let mut s = StreamingSha256::new(u64::MAX);
            for c in data.chunks(chunk) {
                s.update(c).unwrap();
            }
            assert_eq!(s.bytes(), 100_000);
            assert_eq!(s.finish(), whole, "chunk {chunk}");
        }
    }

    #[test]
    fn mismatch_and_cap_are_errors() {
        let mut s = StreamingSha256::new(10);
        s.update(b"abc").unwrap();
        let wrong = Sha256Digest::of(b"abd");
        assert!(
            matches!(s.verify("B1", Some(wrong)), Err(JmapError::BlobDigestMismatch { ref blob_id, .. }) if blob_id == "B1")
        );
        let mut s = StreamingSha256::new(10);
        s.update(b"abc").unwrap();
        assert_eq!(s.verify("B1", None).unwrap().to_hex(), ABC);
        let mut s = StreamingSha256::new(4);
        assert!(s.update(b"abc").is_ok());
        assert_eq!(s.update(b"de"), Err(JmapError::BlobTooLarge { limit: 4 }));
    }

    #[test]
    fn memory_store_is_per_account() {
        let store = MemoryDigests::default();
        store.put("a", "B", Sha256Digest::of(b"x"));
        assert_eq!(store.get("a", "B"), Some(Sha256Digest::of(b"x")));
        assert_eq!(store.get("other", "B"), None);
    }
}
