use std::fmt;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha512;

use crate::{Error, Result};

const KEY_FILE: &str = "secret.key";
const PREVIOUS_KEY_FILE: &str = "secret.key.previous";
const NONCE_LEN: usize = 12;

/// The 256-bit key that seals provider secrets (AES-256-GCM) and derives the API's token-signing key.
///
/// During a rotation it also carries the previous key, which still opens what it sealed; everything new is
/// sealed with the current key ([`Store::reseal_secrets`](crate::Store::reseal_secrets) moves the rest).
/// Its `Debug` never prints the key.
#[derive(Clone)]
pub struct SecretKey(
    [u8; 32],
    /// The previous key, during a rotation.
    Option<[u8; 32]>,
);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    /// Parses a key given as base64 of 32 bytes (configuration value).
    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|e| Error::InvalidKey(format!("not base64: {e}")))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|v: Vec<u8>| Error::InvalidKey(format!("{} bytes instead of 32", v.len())))?;
        Ok(Self(arr, None))
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        Self(k, None)
    }

    /// The key as base64 (to write into configuration).
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    /// Adds the previous key of a rotation: it still opens what it sealed.
    pub fn with_previous(mut self, previous: &SecretKey) -> Self {
        self.1 = Some(previous.0);
        self
    }

    /// Whether a previous key is carried (a rotation is under way).
    pub fn has_previous(&self) -> bool {
        self.1.is_some()
    }

    /// Reads `secret.key` from the data directory, creating it (mode 0600) with a random key on first start;
    /// `secret.key.previous`, left by an unfinished rotation, is carried as the previous key.
    pub fn load_or_create(data_dir: &Path) -> Result<Self> {
        let key = Self::load_or_create_current(data_dir)?;
        let previous = data_dir.join(PREVIOUS_KEY_FILE);
        match std::fs::read_to_string(&previous) {
            Ok(text) => Ok(key.with_previous(&Self::from_base64(&text)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(key),
            Err(source) => Err(Error::Io {
                path: previous,
                source,
            }),
        }
    }

    /// Starts a rotation of the data directory's key: the current key is kept as `secret.key.previous` and a
    /// new random key replaces `secret.key` (both mode 0600, each written in full before it is used). Returns
    /// the new key carrying the previous one; finish with [`Store::reseal_secrets`](crate::Store::reseal_secrets)
    /// and [`finish_rotation`](Self::finish_rotation).
    pub fn rotate_in(data_dir: &Path) -> Result<Self> {
        let current = Self::load_or_create(data_dir)?;
        if current.has_previous() {
            // An unfinished rotation: finish that one, with the same keys.
            return Ok(current);
        }
        write_key_file(&data_dir.join(PREVIOUS_KEY_FILE), &current)?;
        let next = Self::generate();
        write_key_file(&data_dir.join(KEY_FILE), &next)?;
        Ok(next.with_previous(&current))
    }

    /// Ends a rotation once every secret is sealed with the current key: forgets the previous key.
    pub fn finish_rotation(data_dir: &Path) -> Result<()> {
        let path = data_dir.join(PREVIOUS_KEY_FILE);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(Error::Io { path, source }),
        }
    }

    fn load_or_create_current(data_dir: &Path) -> Result<Self> {
        let path = data_dir.join(KEY_FILE);
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => return Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        std::fs::create_dir_all(data_dir).map_err(|source| Error::Io {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let key = Self::generate();
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        match opts.open(&path) {
            Ok(mut f) => {
                f.write_all(key.to_base64().as_bytes()).map_err(io)?;
                f.sync_all().map_err(io)?;
                Ok(key)
            }
            // Another process created it between our read and our create: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::from_base64(&std::fs::read_to_string(&path).map_err(io)?)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// A 64-byte key for signing API tokens, derived (HMAC-SHA512) from this key so one secret configures a node.
    pub fn derive_signing_key(&self) -> Vec<u8> {
        let mut mac =
            <Hmac<Sha512> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"furrow api token signing v1");
        mac.finalize().into_bytes().to_vec()
    }

    /// Seals `plain`, binding it to `context` (e.g. the credential id) so rows cannot be swapped.
    pub(crate) fn seal(&self, plain: &[u8], context: &str) -> Vec<u8> {
        let cipher = Aes256Gcm::new((&self.0).into());
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens what [`seal`](Self::seal) produced with the same context (with this key or the previous one).
    pub(crate) fn open(&self, sealed: &[u8], context: &str) -> Option<Vec<u8>> {
        open_with(&self.0, sealed, context)
            .or_else(|| self.1.as_ref().and_then(|k| open_with(k, sealed, context)))
    }

    /// Whether `sealed` opens with the current key (not only with the previous one).
    pub(crate) fn opens_with_current(&self, sealed: &[u8], context: &str) -> bool {
        open_with(&self.0, sealed, context).is_some()
    }
}

/// Writes a key file in full (a temporary file, synced, then renamed), mode 0600.
fn write_key_file(path: &Path, key: &SecretKey) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(io)?;
    f.write_all(key.to_base64().as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

fn open_with(key: &[u8; 32], sealed: &[u8], context: &str) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    Aes256Gcm::new(key.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: context.as_bytes(),
            },
        )
        .ok()
}

pub(crate) fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Hash(e.to_string()))
}

pub(crate) fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_key_still_opens_what_the_previous_one_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let old = SecretKey::load_or_create(dir.path()).unwrap();
        let sealed = old.seal(b"grant", "credential:1");
        let new = SecretKey::rotate_in(dir.path()).unwrap();
        assert!(new.has_previous());
        assert_ne!(new.to_base64(), old.to_base64());
        assert_eq!(
            new.open(&sealed, "credential:1").as_deref(),
            Some(&b"grant"[..])
        );
        assert!(!new.opens_with_current(&sealed, "credential:1"));
        // A restart mid-rotation loads both keys; rotating again finishes the same rotation.
        let reloaded = SecretKey::load_or_create(dir.path()).unwrap();
        assert_eq!(reloaded.to_base64(), new.to_base64());
        assert!(reloaded.has_previous());
        assert_eq!(
            SecretKey::rotate_in(dir.path()).unwrap().to_base64(),
            new.to_base64()
        );
        SecretKey::finish_rotation(dir.path()).unwrap();
        let after = SecretKey::load_or_create(dir.path()).unwrap();
        assert!(!after.has_previous());
        assert_eq!(
            after.open(&sealed, "credential:1"),
            None,
            "the old key is gone"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn seal_open_round_trip_and_context_binding() {
        let key = SecretKey::generate();
        let sealed = key.seal(b"refresh-token-value", "cred-1");
        assert!(!sealed.windows(7).any(|w| w == b"refresh"));
        assert_eq!(
            key.open(&sealed, "cred-1").as_deref(),
            Some(&b"refresh-token-value"[..])
        );
        assert_eq!(key.open(&sealed, "cred-2"), None);
        assert_eq!(SecretKey::generate().open(&sealed, "cred-1"), None);
        assert_eq!(key.open(&sealed[..5], "cred-1"), None);
    }

    #[test]
    fn key_file_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let a = SecretKey::load_or_create(dir.path()).unwrap();
        let b = SecretKey::load_or_create(dir.path()).unwrap();
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(format!("{a:?}").contains("redacted"));
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(SecretKey::from_base64("not base64!").is_err());
        assert!(SecretKey::from_base64(&B64.encode([1u8; 16])).is_err());
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn signing_key_is_stable_per_key() {
        let k = SecretKey::generate();
        assert_eq!(k.derive_signing_key(), k.derive_signing_key());
        assert_eq!(k.derive_signing_key().len(), 64);
        assert_ne!(
            k.derive_signing_key(),
            SecretKey::generate().derive_signing_key()
        );
    }
}
