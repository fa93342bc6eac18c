//! Ed25519 signatures of plugin components.
//!
//! An administrator may require that every plugin component be signed by a trusted
//! publisher. A signature is detached: it covers the component's raw bytes and is
//! stored next to it. This module owns the key and signature text formats, key
//! generation, signing, and checking a component against the set of trusted keys.
//!
//! Text formats (so that keys fit in TOML and in files), all standard base64 with
//! padding:
//!
//! - public key: the 32 bytes of the ed25519 public key;
//! - secret key: the 32-byte seed;
//! - signature: the 64 bytes of the signature.
//!
//! Whitespace (including newlines, such as those `base64` inserts when it wraps long
//! lines) is ignored when parsing. A key is referred to by its *key id*: the first 16
//! hex characters of the SHA-256 of the public key's 32 bytes.
//!
//! Verification uses [`VerifyingKey::verify_strict`], which refuses malleable
//! signatures and weak keys; weak (small-order) public keys are also refused when
//! the trusted set is parsed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// Length of a key id, in hex characters.
const KEY_ID_LEN: usize = 16;
/// How DER encodes an ed25519 SubjectPublicKeyInfo before the key's 32 bytes
/// (RFC 8410): what a PEM public key holds.
const SPKI_ED25519_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Why a key or signature could not be used, or a component did not verify.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The component has no signature but the host requires one.
    #[error(
        "the component is not signed and this host requires signatures from a trusted key: \
         sign it (`crossdesk plugin sign FILE --key KEY` writes FILE.sig, which \
         `admin plugins install FILE` sends)"
    )]
    Unsigned,
    /// The signature text is not base64 of 64 bytes.
    #[error("the component's signature is malformed: {0}; expected standard base64 of 64 bytes")]
    MalformedSignature(String),
    /// The signature is well-formed but no trusted key verifies it.
    #[error(
        "the signature does not verify with any trusted key (trusted: {trusted}); a \
         signature made before the component was last built does not either: sign it again"
    )]
    NotTrusted {
        /// The ids of the trusted keys, comma-separated, or `none`.
        trusted: String,
    },
    /// A public or secret key's text cannot be used.
    #[error("{which} is not a valid ed25519 {kind} key: {reason}")]
    BadKey {
        /// Which key, e.g. `trusted key #2 of 3` or `the secret key`: never its
        /// text, which may be a secret key pasted in the wrong place.
        which: String,
        /// `public` or `secret`.
        kind: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The operating system could not provide random bytes for a new key.
    #[error("cannot generate a key: the operating system gave no random bytes: {0}")]
    Randomness(getrandom::Error),
}

/// A set of trusted publisher public keys.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    /// Each key with its id, in the order given, without duplicates.
    keys: Vec<(String, VerifyingKey)>,
}

impl TrustedKeys {
    /// Parses public keys (base64 of 32 bytes each).
    ///
    /// A malformed key is named in the error by its position, not by its text (a
    /// secret key pasted here by mistake would otherwise reach the log). Weak
    /// (small-order) keys are refused. A key given twice counts once.
    pub fn parse(keys: &[String]) -> Result<TrustedKeys, SigningError> {
        let mut parsed: Vec<(String, VerifyingKey)> = Vec::with_capacity(keys.len());
        for (number, text) in (1usize..).zip(keys) {
            let key = decode_public(text).map_err(|reason| SigningError::BadKey {
                which: format!("trusted key #{number} of {}", keys.len()),
                kind: "public",
                reason,
            })?;
            if !parsed.iter().any(|(_, known)| known == &key) {
                parsed.push((id_of(&key), key));
            }
        }
        Ok(TrustedKeys { keys: parsed })
    }

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The ids of the trusted keys, in the order given.
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|(id, _)| id.as_str()).collect()
    }

    /// Checks that some trusted key made `signature` over `component`.
    ///
    /// Returns the id of that key (first 16 hex characters of the SHA-256 of the
    /// public key). `None` as signature is [`SigningError::Unsigned`].
    pub fn verify(
        &self,
        component: &[u8],
        signature: Option<&str>,
    ) -> Result<String, SigningError> {
        let text = signature.ok_or(SigningError::Unsigned)?;
        let bytes = decode_base64(text).map_err(SigningError::MalformedSignature)?;
        let bytes: [u8; ed25519_dalek::SIGNATURE_LENGTH] =
            bytes.as_slice().try_into().map_err(|_| {
                SigningError::MalformedSignature(format!("it decodes to {} bytes", bytes.len()))
            })?;
        let signature = Signature::from_bytes(&bytes);
        self.keys
            .iter()
            .find(|(_, key)| key.verify_strict(component, &signature).is_ok())
            .map(|(id, _)| id.clone())
            .ok_or_else(|| SigningError::NotTrusted {
                trusted: if self.keys.is_empty() {
                    "none".to_owned()
                } else {
                    self.ids().join(", ")
                },
            })
    }
}

/// Generates a new secret key (base64 of a 32-byte seed from the operating system).
pub fn generate_secret_key() -> Result<String, SigningError> {
    let mut seed = [0u8; ed25519_dalek::SECRET_KEY_LENGTH];
    getrandom::fill(&mut seed).map_err(SigningError::Randomness)?;
    Ok(STANDARD.encode(seed))
}

/// The public key (base64) belonging to a secret key (base64 seed).
pub fn public_key_of(secret_key: &str) -> Result<String, SigningError> {
    let key = decode_secret(secret_key)?;
    Ok(STANDARD.encode(key.verifying_key().as_bytes()))
}

/// Signs `component` with a secret key; returns the signature as base64.
pub fn sign(secret_key: &str, component: &[u8]) -> Result<String, SigningError> {
    let key = decode_secret(secret_key)?;
    Ok(STANDARD.encode(key.sign(component).to_bytes()))
}

/// The id of a public key (base64): the first 16 hex characters of the SHA-256 of
/// its 32 bytes.
pub fn key_id(public_key: &str) -> Result<String, SigningError> {
    let key = decode_public(public_key).map_err(|reason| SigningError::BadKey {
        which: "the public key".to_owned(),
        kind: "public",
        reason,
    })?;
    Ok(id_of(&key))
}

fn id_of(key: &VerifyingKey) -> String {
    let mut id = hex::encode(Sha256::digest(key.as_bytes()));
    id.truncate(KEY_ID_LEN);
    id
}

/// Decodes base64, ignoring all whitespace. `Err` says why, without the text.
fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err("it is empty".to_owned());
    }
    STANDARD.decode(compact).map_err(|e| {
        format!(
            "it is not standard base64 ({})",
            crate::secrets::base64_fault(&e)
        )
    })
}

fn decode_public(text: &str) -> Result<VerifyingKey, String> {
    let bytes = decode_base64(text)?;
    if bytes.starts_with(&SPKI_ED25519_PREFIX) {
        return Err(
            "it is a DER public key (the body of a PEM file); give the base64 of \
                    its last 32 bytes, as `crossdesk plugin keygen` prints it"
                .to_owned(),
        );
    }
    let bytes: [u8; ed25519_dalek::PUBLIC_KEY_LENGTH] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| format!("it decodes to {} bytes, expected 32", bytes.len()))?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| {
        "its 32 bytes are not a point on the ed25519 curve (a secret key would look \
         like this: give the public key `crossdesk plugin keygen` printed)"
            .to_owned()
    })?;
    if key.is_weak() {
        return Err(
            "it is a weak (small-order) key that would accept forged signatures".to_owned(),
        );
    }
    Ok(key)
}

/// Decodes a secret key. Errors never quote the secret.
fn decode_secret(text: &str) -> Result<SigningKey, SigningError> {
    let bad = |reason: String| SigningError::BadKey {
        which: "the secret key".to_owned(),
        kind: "secret",
        reason,
    };
    let bytes = decode_base64(text).map_err(bad)?;
    let seed: [u8; ed25519_dalek::SECRET_KEY_LENGTH] =
        bytes.as_slice().try_into().map_err(|_| {
            bad(format!(
                "it decodes to {} bytes, expected a 32-byte seed",
                bytes.len()
            ))
        })?;
    Ok(SigningKey::from_bytes(&seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPONENT: &[u8] = b"\0asm\x01\0\0\0 pretend this is a component";

    fn new_key() -> (String, String) {
        let secret = generate_secret_key().expect("OS randomness");
        let public = public_key_of(&secret).expect("fresh secret is valid");
        (secret, public)
    }

    fn trusted(keys: &[&str]) -> TrustedKeys {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        TrustedKeys::parse(&keys).expect("valid keys")
    }

    #[test]
    fn sign_then_verify_returns_the_key_id() {
        let (secret, public) = new_key();
        let signature = sign(&secret, COMPONENT).expect("sign");
        let keys = trusted(&[&public]);
        let id = keys.verify(COMPONENT, Some(&signature)).expect("verifies");
        assert_eq!(id, key_id(&public).expect("key id"));
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(keys.ids(), vec![id.as_str()]);
    }

    #[test]
    fn formats_have_the_documented_sizes() {
        let (secret, public) = new_key();
        let signature = sign(&secret, COMPONENT).expect("sign");
        assert_eq!(STANDARD.decode(&secret).expect("b64").len(), 32);
        assert_eq!(STANDARD.decode(&public).expect("b64").len(), 32);
        assert_eq!(STANDARD.decode(&signature).expect("b64").len(), 64);
        assert_ne!(generate_secret_key().expect("OS randomness"), secret);
    }

    #[test]
    fn known_key_id_and_signature_match_rfc_8032() {
        // RFC 8032, section 7.1, TEST 1 (empty message).
        let seed = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .expect("hex");
        let secret = STANDARD.encode(seed);
        let public = public_key_of(&secret).expect("public");
        assert_eq!(
            hex::encode(STANDARD.decode(&public).expect("b64")),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let signature = sign(&secret, b"").expect("sign");
        assert_eq!(
            hex::encode(STANDARD.decode(&signature).expect("b64")),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
             5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        let expected_id =
            &hex::encode(Sha256::digest(STANDARD.decode(&public).expect("b64")))[..16];
        assert_eq!(key_id(&public).expect("id"), expected_id);
    }

    #[test]
    fn a_tampered_component_fails() {
        let (secret, public) = new_key();
        let signature = sign(&secret, COMPONENT).expect("sign");
        let keys = trusted(&[&public]);
        for index in [0, COMPONENT.len() / 2, COMPONENT.len() - 1] {
            let mut tampered = COMPONENT.to_vec();
            tampered[index] ^= 0x01;
            let err = keys
                .verify(&tampered, Some(&signature))
                .expect_err("tampered");
            assert!(matches!(err, SigningError::NotTrusted { .. }), "{err}");
        }
        let mut longer = COMPONENT.to_vec();
        longer.push(0);
        assert!(keys.verify(&longer, Some(&signature)).is_err());
    }

    #[test]
    fn a_tampered_signature_fails() {
        let (secret, public) = new_key();
        let mut bytes = STANDARD
            .decode(sign(&secret, COMPONENT).expect("sign"))
            .expect("b64");
        bytes[10] ^= 0x80;
        let err = trusted(&[&public])
            .verify(COMPONENT, Some(&STANDARD.encode(bytes)))
            .expect_err("tampered signature");
        assert!(matches!(err, SigningError::NotTrusted { .. }), "{err}");
    }

    #[test]
    fn a_signature_by_another_key_fails_and_lists_the_trusted_ids() {
        let (_, public) = new_key();
        let (other_secret, _) = new_key();
        let signature = sign(&other_secret, COMPONENT).expect("sign");
        let err = trusted(&[&public])
            .verify(COMPONENT, Some(&signature))
            .expect_err("untrusted signer");
        let id = key_id(&public).expect("id");
        assert!(
            err.to_string().starts_with(&format!(
                "the signature does not verify with any trusted key (trusted: {id}); "
            )),
            "{err}"
        );
        assert!(err.to_string().ends_with("sign it again"), "{err}");
    }

    #[test]
    fn any_of_several_trusted_keys_may_sign() {
        let (secret_a, public_a) = new_key();
        let (secret_b, public_b) = new_key();
        let keys = trusted(&[&public_a, &public_b, &public_a]);
        assert_eq!(keys.ids().len(), 2, "duplicates count once");
        for (secret, public) in [(&secret_a, &public_a), (&secret_b, &public_b)] {
            let signature = sign(secret, COMPONENT).expect("sign");
            assert_eq!(
                keys.verify(COMPONENT, Some(&signature)).expect("verifies"),
                key_id(public).expect("id")
            );
        }
    }

    #[test]
    fn unsigned_fails() {
        let (_, public) = new_key();
        let err = trusted(&[&public])
            .verify(COMPONENT, None)
            .expect_err("unsigned");
        assert!(matches!(err, SigningError::Unsigned));
        assert!(
            err.to_string().starts_with(
                "the component is not signed and this host requires signatures from a trusted key: \
                 sign it (`crossdesk plugin sign FILE --key KEY`"
            ),
            "{err}"
        );
    }

    #[test]
    fn an_empty_trusted_set_trusts_nothing() {
        let (secret, _) = new_key();
        let keys = TrustedKeys::parse(&[]).expect("empty is fine");
        assert!(keys.is_empty());
        let signature = sign(&secret, COMPONENT).expect("sign");
        let err = keys
            .verify(COMPONENT, Some(&signature))
            .expect_err("no trusted keys");
        assert!(err.to_string().contains("(trusted: none)"), "{err}");
        assert!(!trusted(&[&public_key_of(&secret).expect("public")]).is_empty());
    }

    #[test]
    fn garbage_signatures_are_malformed() {
        let (_, public) = new_key();
        let keys = trusted(&[&public]);
        let short = STANDARD.encode([7u8; 63]);
        let long = STANDARD.encode([7u8; 65]);
        for garbage in [
            "",
            "   ",
            "not base64!",
            "AAAA=",
            short.as_str(),
            long.as_str(),
        ] {
            let err = keys
                .verify(COMPONENT, Some(garbage))
                .expect_err("garbage signature");
            assert!(
                matches!(err, SigningError::MalformedSignature(_)),
                "{garbage:?}: {err}"
            );
        }
        // 64 bytes that are not a valid signature: well-formed text, but untrusted.
        let zeros = STANDARD.encode([0u8; 64]);
        let err = keys.verify(COMPONENT, Some(&zeros)).expect_err("bogus");
        assert!(matches!(err, SigningError::NotTrusted { .. }), "{err}");
    }

    #[test]
    fn whitespace_and_line_wrapping_are_tolerated() {
        let (secret, public) = new_key();
        let signature = sign(&secret, COMPONENT).expect("sign");
        let (head, tail) = signature.split_at(40);
        let wrapped_signature = format!("\n  {head}\r\n{tail}\n\n");
        let keys = trusted(&[&format!("  {public}\n")]);
        let id = keys
            .verify(COMPONENT, Some(&wrapped_signature))
            .expect("verifies");
        assert_eq!(id, key_id(&format!("\t{public} ")).expect("id"));
        let padded_secret = format!("{secret}\n");
        assert_eq!(public_key_of(&padded_secret).expect("public"), public);
        assert_eq!(sign(&padded_secret, COMPONENT).expect("sign"), signature);
    }

    #[test]
    fn a_malformed_trusted_key_is_named_by_position_never_by_its_text() {
        let (_, good) = new_key();
        // A secret key pasted among the public ones: 32 bytes like a public key,
        // found off the curve (about half of all seeds are) so that it is refused.
        let secret = (0u8..)
            .map(|n| STANDARD.encode([n; 32]))
            .find(|seed| decode_public(seed).is_err_and(|e| e.contains("not a point")))
            .expect("some seed is off the curve");
        let keys = vec![good.clone(), secret.clone(), good];
        let err = TrustedKeys::parse(&keys).expect_err("second key is bad");
        let message = err.to_string();
        assert!(message.starts_with("trusted key #2 of 3 is "), "{message}");
        assert!(
            message.contains("a secret key would look like this"),
            "{message}"
        );
        for start in 0..secret.len().saturating_sub(4) {
            assert!(
                !message.contains(&secret[start..start + 4]),
                "the key's text is quoted: {message}"
            );
        }
    }

    #[test]
    fn a_pem_public_key_is_refused_with_what_to_give_instead() {
        let (_, public) = new_key();
        let mut der = SPKI_ED25519_PREFIX.to_vec();
        der.extend(STANDARD.decode(&public).expect("base64"));
        let err = TrustedKeys::parse(&[STANDARD.encode(der)]).expect_err("DER");
        assert!(err.to_string().contains("DER public key"), "{err}");
    }

    #[test]
    fn bad_public_keys_are_refused_with_a_reason() {
        let short = STANDARD.encode([1u8; 31]);
        // The identity point: a valid encoding of a small-order (weak) key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = STANDARD.encode(identity);
        // y = 2 is not on the curve.
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        let off_curve = STANDARD.encode(off_curve);
        let cases = [
            ("", "it is empty"),
            ("!!!", "not standard base64"),
            (short.as_str(), "decodes to 31 bytes, expected 32"),
            (weak.as_str(), "weak"),
            (off_curve.as_str(), "not a point on the ed25519 curve"),
        ];
        for (text, expected) in cases {
            let err = key_id(text).expect_err("bad public key");
            assert!(err.to_string().contains(expected), "{text:?}: {err}");
            let err = TrustedKeys::parse(&[text.to_owned()]).expect_err("bad public key");
            assert!(err.to_string().contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn bad_secret_keys_are_refused_without_being_quoted() {
        let secret_ish = STANDARD.encode([0xABu8; 33]);
        for text in ["", "%%%%", secret_ish.as_str()] {
            let err = sign(text, COMPONENT).expect_err("bad secret");
            let message = err.to_string();
            assert!(message.starts_with("the secret key is not a valid ed25519 secret key"));
            assert!(text.is_empty() || !message.contains(text), "{message}");
            assert!(public_key_of(text).is_err());
        }
    }
}
