//! Secrets encrypted at rest under a master key.
//!
//! Secrets (such as API keys sent in outbound HTTP headers) are stored in the
//! database only in sealed form and are opened in memory by the host when needed.
//! This module owns the master key (its text form and its key file) and the sealed
//! format.
//!
//! Sealing uses ChaCha20-Poly1305 with a fresh random 96-bit nonce per seal. The
//! sealed form is `nonce (12 bytes) || ciphertext || tag (16 bytes)`. The caller's
//! *context* (for example `"tenant/plugin/host/header"`) is authenticated as
//! associated data: a sealed value opens only under the context it was sealed for,
//! so a value copied to another tenant, plugin or header does not open.
//!
//! Random nonces are safe for far more seals than a secret store makes (the usual
//! bound is about 2^32 seals per key).

use std::fmt;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// Length of a master key, in bytes.
const KEY_LEN: usize = 32;
/// Length of the nonce that starts a sealed value, in bytes.
const NONCE_LEN: usize = 12;
/// Length of the authentication tag that ends a sealed value, in bytes.
const TAG_LEN: usize = 16;

/// Why a master key could not be obtained or a secret could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The environment variable meant to hold the master key is not set.
    #[error("environment variable {0} (master key) is not set")]
    NoKeyVariable(String),
    /// The text of a master key is not base64 of 32 bytes.
    #[error("invalid master key: {0}; expected standard base64 of 32 bytes")]
    BadKey(String),
    /// The key file exists but does not hold a key.
    #[error(
        "master key file {path} does not hold a valid key: {reason}; restore the original \
         file (a new key cannot open secrets sealed with the old one) or, if no secrets \
         were stored yet, delete it to have a new key generated"
    )]
    BadKeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong with its content.
        reason: String,
    },
    /// The key file is absent and its directory does not exist.
    #[error(
        "cannot create master key file {path}: its directory does not exist; create the \
         directory or point the configuration at an existing one"
    )]
    NoKeyDirectory {
        /// The key file.
        path: PathBuf,
    },
    /// The key file could not be read or created.
    #[error("cannot {action} master key file {path}: {source}")]
    KeyFileIo {
        /// What was being done: `read`, `create` or `write`.
        action: &'static str,
        /// The key file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The operating system could not provide random bytes.
    #[error("cannot get random bytes from the operating system: {0}")]
    Randomness(getrandom::Error),
    /// The value is too large to be sealed.
    #[error("cannot seal the secret: it is too large")]
    TooLarge,
    /// Authentication failed: wrong key or context, or the bytes were altered or cut.
    #[error(
        "cannot open the secret: wrong master key, or the value was moved to another \
         place or altered"
    )]
    Undecryptable,
    /// The value opened but is not UTF-8 text (it was not sealed by [`MasterKey::seal`]).
    #[error("the opened secret is not UTF-8 text")]
    NotText,
}

/// The 32-byte key that seals and opens secrets.
///
/// Its `Debug` output does not show the key.
pub struct MasterKey([u8; KEY_LEN]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// What is wrong with base64 text, without the character at fault: the text is
/// a key, and base64's own message quotes it.
pub(crate) fn base64_fault(error: &base64::DecodeError) -> &'static str {
    use base64::DecodeError as E;
    match error {
        E::InvalidByte(..) => "a character that base64 does not use",
        E::InvalidLength(_) => "a length base64 cannot have",
        E::InvalidLastSymbol(..) => "a last character that leaves bits over",
        E::InvalidPadding => "wrong padding",
    }
}

impl MasterKey {
    /// Reads a key from standard base64 of 32 bytes; surrounding whitespace is ignored.
    pub fn from_base64(text: &str) -> Result<MasterKey, SecretError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SecretError::BadKey("it is empty".to_owned()));
        }
        let bytes = STANDARD
            .decode(text)
            .map_err(|e| SecretError::BadKey(format!("it is not base64 ({})", base64_fault(&e))))?;
        let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
            SecretError::BadKey(format!("it decodes to {} bytes, not 32", bytes.len()))
        })?;
        Ok(MasterKey(key))
    }

    /// Reads the key from the environment variable `var` (standard base64).
    pub fn from_env(var: &str) -> Result<MasterKey, SecretError> {
        let text = std::env::var(var).map_err(|_| SecretError::NoKeyVariable(var.to_owned()))?;
        Self::from_base64(&text)
    }

    /// Reads the key file, or creates it with a fresh random key when absent.
    ///
    /// The file holds the key in base64 followed by a newline. A new file is created
    /// exclusively (so two processes starting together cannot both create it) with
    /// mode 0600 on unix; its directory must already exist. A file whose content is
    /// not a key is refused with an error naming it: it is never replaced, since
    /// secrets sealed under the old key would be lost.
    pub fn load_or_create(path: &Path) -> Result<MasterKey, SecretError> {
        match Self::load(path) {
            Err(SecretError::KeyFileIo { source, .. })
                if source.kind() == io::ErrorKind::NotFound => {}
            other => return other,
        }
        let key = Self::generate()?;
        // Written whole to a file of this call's own, then linked into place: a
        // hard link fails if the name exists, so of several first starts (replicas,
        // threads) exactly one key wins, and nobody ever reads a half-written file.
        static ATTEMPTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let attempt = ATTEMPTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_extension(format!("new-{}-{attempt}", std::process::id()));
        let io_error = |action: &'static str, source: io::Error| match source.kind() {
            io::ErrorKind::NotFound => SecretError::NoKeyDirectory {
                path: path.to_owned(),
            },
            _ => SecretError::KeyFileIo {
                action,
                path: path.to_owned(),
                source,
            },
        };
        let written = create_exclusive(&tmp).and_then(|mut file| {
            file.write_all(format!("{}\n", key.to_base64()).as_bytes())?;
            file.sync_all()
        });
        if let Err(source) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_error("write", source));
        }
        let linked = std::fs::hard_link(&tmp, path);
        // The temporary name goes whatever happened; the key lives on under `path`.
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(key),
            // Another start linked its key first: that one is the key.
            Err(source) if source.kind() == io::ErrorKind::AlreadyExists => Self::load(path),
            Err(source) => Err(io_error("create", source)),
        }
    }

    /// Generates a fresh random key.
    pub fn generate() -> Result<MasterKey, SecretError> {
        let mut key = [0u8; KEY_LEN];
        getrandom::fill(&mut key).map_err(SecretError::Randomness)?;
        Ok(MasterKey(key))
    }

    /// The key as standard base64 (the form read by [`MasterKey::from_base64`]).
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Encrypts `plaintext` for the place named by `context`.
    ///
    /// Returns `nonce || ciphertext || tag`; two seals of the same value differ.
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<Vec<u8>, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(SecretError::Randomness)?;
        let ciphertext = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::TooLarge)?;
        let mut sealed = Vec::with_capacity(NONCE_LEN.saturating_add(ciphertext.len()));
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Decrypts a value sealed by [`MasterKey::seal`] under the same `context`.
    ///
    /// A wrong key, a different context, or altered or truncated bytes all give
    /// [`SecretError::Undecryptable`].
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<String, SecretError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let plaintext = self
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plaintext).map_err(|_| SecretError::NotText)
    }

    /// A keyed digest of `value` for `purpose` (HMAC-SHA256 under a key derived
    /// from this one): equal values give equal digests under the same key, and
    /// without the key no guess of the value can be checked against it.
    pub fn digest(&self, purpose: &str, value: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        type HmacSha256 = Hmac<sha2::Sha256>;
        // A key of its own, so that nothing computed with the sealing key is shown.
        let mut derive = <HmacSha256 as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        derive.update(b"crossdesk digest key: ");
        derive.update(purpose.as_bytes());
        let key = derive.finalize().into_bytes();
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&key)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(&Key::from(self.0))
    }

    fn load(path: &Path) -> Result<MasterKey, SecretError> {
        if let Some(mode) = readable_by_others(path) {
            // A warning, not a refusal: a key mounted by an orchestrator may be
            // world-readable by default, and refusing it would stop a deployment
            // that works.
            tracing::warn!(
                path = %path.display(),
                mode = format_args!("{mode:04o}"),
                "users other than its owner may read or write the master key file; \
                 let its owner alone have it (chmod 600)"
            );
        }
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == io::ErrorKind::InvalidData {
                SecretError::BadKeyFile {
                    path: path.to_owned(),
                    reason: "it is not text".to_owned(),
                }
            } else {
                SecretError::KeyFileIo {
                    action: "read",
                    path: path.to_owned(),
                    source,
                }
            }
        })?;
        MasterKey::from_base64(&text).map_err(|err| SecretError::BadKeyFile {
            path: path.to_owned(),
            reason: match err {
                SecretError::BadKey(reason) => reason,
                other => other.to_string(),
            },
        })
    }
}

/// The permission bits of the file at `path` when its group or others may read
/// or write it (unix only; `None` elsewhere, or when its metadata cannot be read).
fn readable_by_others(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
        (mode & 0o066 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Creates `path`, failing if it exists; owner-only permissions on unix.
fn create_exclusive(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTEXT: &str = "acme/translation/api.deepl.com/Authorization";

    fn key() -> MasterKey {
        MasterKey::generate().expect("OS randomness")
    }

    #[test]
    fn a_digest_is_the_keys_and_the_purposes() {
        let (one, other) = (key(), key());
        let digest = one.digest("customer.erase", "acme\0c-1");
        assert_eq!(digest, one.digest("customer.erase", "acme\0c-1"));
        for different in [
            other.digest("customer.erase", "acme\0c-1"),
            one.digest("something.else", "acme\0c-1"),
            one.digest("customer.erase", "acme\0c-2"),
        ] {
            assert_ne!(digest, different);
        }
        use sha2::Digest as _;
        assert_ne!(digest, <[u8; 32]>::from(sha2::Sha256::digest(b"acme\0c-1")));
    }

    #[test]
    fn seal_then_open_round_trips() {
        let key = key();
        for secret in [
            "",
            "DeepL-Auth-Key 1234:fx",
            "ünïcødé 🔑",
            &"x".repeat(10_000),
        ] {
            let sealed = key.seal(secret, CONTEXT).expect("seal");
            assert_eq!(sealed.len(), NONCE_LEN + secret.len() + TAG_LEN);
            assert!(
                secret.len() < 4 || !sealed.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "plaintext visible in sealed form"
            );
            assert_eq!(key.open(&sealed, CONTEXT).expect("open"), secret);
        }
    }

    #[test]
    fn two_seals_of_the_same_value_differ() {
        let key = key();
        let a = key.seal("same", CONTEXT).expect("seal");
        let b = key.seal("same", CONTEXT).expect("seal");
        assert_ne!(a, b);
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN], "nonces must differ");
    }

    #[test]
    fn a_different_context_does_not_open() {
        let key = key();
        let sealed = key.seal("secret", CONTEXT).expect("seal");
        for other in [
            "other/translation/api.deepl.com/Authorization",
            "acme/translation/api.deepl.com/X-Api-Key",
            "",
        ] {
            let err = key.open(&sealed, other).expect_err("wrong context");
            assert!(matches!(err, SecretError::Undecryptable), "{err}");
        }
    }

    #[test]
    fn a_different_key_does_not_open() {
        let sealed = key().seal("secret", CONTEXT).expect("seal");
        let err = key().open(&sealed, CONTEXT).expect_err("wrong key");
        assert!(matches!(err, SecretError::Undecryptable));
        assert_eq!(
            err.to_string(),
            "cannot open the secret: wrong master key, or the value was moved to another \
             place or altered"
        );
    }

    #[test]
    fn truncated_or_altered_values_do_not_open() {
        let key = key();
        let sealed = key.seal("secret", CONTEXT).expect("seal");
        for len in [0, 1, NONCE_LEN, NONCE_LEN + TAG_LEN, sealed.len() - 1] {
            let err = key.open(&sealed[..len], CONTEXT).expect_err("truncated");
            assert!(
                matches!(err, SecretError::Undecryptable),
                "len {len}: {err}"
            );
        }
        for index in 0..sealed.len() {
            let mut altered = sealed.clone();
            altered[index] ^= 0x01;
            assert!(
                matches!(key.open(&altered, CONTEXT), Err(SecretError::Undecryptable)),
                "flipping byte {index} went unnoticed"
            );
        }
        let mut longer = sealed.clone();
        longer.push(0);
        assert!(key.open(&longer, CONTEXT).is_err());
    }

    #[test]
    fn base64_round_trips_and_bad_text_is_refused() {
        let key = key();
        let text = key.to_base64();
        let again = MasterKey::from_base64(&format!("  {text}\n")).expect("valid");
        assert_eq!(again.to_base64(), text);
        let sealed = key.seal("v", CONTEXT).expect("seal");
        assert_eq!(again.open(&sealed, CONTEXT).expect("open"), "v");

        let short = STANDARD.encode([0u8; 16]);
        for (bad, expected) in [
            ("", "it is empty"),
            ("not base64!", "not base64"),
            (short.as_str(), "decodes to 16 bytes, not 32"),
        ] {
            let err = MasterKey::from_base64(bad).expect_err("bad key text");
            let message = err.to_string();
            assert!(message.contains(expected), "{bad:?}: {message}");
            assert!(message.contains("32 bytes"), "{message}");
        }
        // A key's character at fault is not quoted, nor its code (base64's own
        // message says "Invalid symbol 33, offset 10").
        let message = MasterKey::from_base64("not base64!")
            .expect_err("bad")
            .to_string();
        assert!(
            message.contains("a character that base64 does not use"),
            "{message}"
        );
        assert!(
            !message.contains('!') && !message.contains("33"),
            "{message}"
        );
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let key = key();
        let debug = format!("{key:?}");
        assert_eq!(debug, "MasterKey(<redacted>)");
        assert!(!debug.contains(&key.to_base64()));
    }

    #[test]
    fn key_file_is_created_private_and_reloads_the_same_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("master.key");
        let created = MasterKey::load_or_create(&path).expect("create");
        let content = std::fs::read_to_string(&path).expect("key file written");
        assert_eq!(content, format!("{}\n", created.to_base64()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let loaded = MasterKey::load_or_create(&path).expect("reload");
        assert_eq!(loaded.to_base64(), created.to_base64());
        let sealed = created.seal("secret", CONTEXT).expect("seal");
        assert_eq!(loaded.open(&sealed, CONTEXT).expect("open"), "secret");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_may_read_is_noticed() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("master.key");
        MasterKey::load_or_create(&path).expect("create");
        assert_eq!(readable_by_others(&path), None);
        for mode in [0o644, 0o640, 0o604, 0o620] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
            assert_eq!(readable_by_others(&path), Some(mode), "{mode:o}");
            // Still loaded: the warning does not stop a start.
            MasterKey::load_or_create(&path).expect("load");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).expect("chmod");
        assert_eq!(readable_by_others(&path), None);
    }

    #[test]
    fn concurrent_first_starts_agree_on_one_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("master.key");
        let keys: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| MasterKey::load_or_create(&path).map(|k| k.to_base64())))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("no panic").expect("load or create"))
                .collect()
        });
        assert!(keys.iter().all(|k| k == &keys[0]), "{keys:?}");
    }

    #[test]
    fn a_malformed_key_file_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("master.key");
        for content in [&b"not a key\n"[..], b"", b"\xff\xfe\x00binary"] {
            std::fs::write(&path, content).expect("write");
            let err = MasterKey::load_or_create(&path).expect_err("malformed");
            assert!(matches!(err, SecretError::BadKeyFile { .. }), "{err}");
            let message = err.to_string();
            assert!(
                message.contains(&path.display().to_string()),
                "{message} should name the file"
            );
            assert_eq!(
                std::fs::read(&path).expect("still there"),
                content,
                "never replaced"
            );
        }
    }

    #[test]
    fn a_missing_directory_is_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("no-such-dir").join("master.key");
        let err = MasterKey::load_or_create(&path).expect_err("no directory");
        assert!(matches!(err, SecretError::NoKeyDirectory { .. }), "{err}");
        assert!(err.to_string().contains(&path.display().to_string()));
        assert!(!path.exists());
    }
}
