//! AWS Signature Version 4, computed by the host for a plugin's request to an AWS
//! service (Amazon Translate), so that the secret access key never reaches the
//! plugin: the tenant's secret for the host has the header name
//! [`AWS_SIGV4_HEADER`] and the value `ACCESS_KEY_ID:SECRET_ACCESS_KEY`, with
//! `:REGION:SERVICE` after it when the host name does not say them
//! (`translate.eu-west-1.amazonaws.com` does). The request gets `x-amz-date`,
//! `x-amz-content-sha256` and `authorization`; the header itself is never sent.
//!
//! The algorithm is AWS's "Create a signed AWS API request" (canonical request,
//! string to sign, derived signing key); the test checks it against AWS's own
//! worked example.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The secret header name that stands for AWS credentials.
pub const AWS_SIGV4_HEADER: &str = "x-crossdesk-aws-sigv4";

/// Credentials and scope from a secret's value.
#[derive(Clone)]
pub struct Credentials {
    pub key_id: String,
    secret: String,
    pub region: String,
    pub service: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("key_id", &self.key_id)
            .field("secret", &"<redacted>")
            .field("region", &self.region)
            .field("service", &self.service)
            .finish()
    }
}

impl Credentials {
    /// Reads `KEY_ID:SECRET[:REGION:SERVICE]`; region and service default to the
    /// host name's `SERVICE.REGION.amazonaws.com`.
    pub fn parse(value: &str, host: &str) -> Result<Credentials, String> {
        let parts: Vec<&str> = value.trim().split(':').collect();
        let from_host = || {
            let mut labels = host.split('.');
            match (
                labels.next(),
                labels.next(),
                host.ends_with(".amazonaws.com"),
            ) {
                (Some(service), Some(region), true) => Some((region, service)),
                _ => None,
            }
        };
        let (key_id, secret, region, service) = match parts.as_slice() {
            [key_id, secret, region, service] => (*key_id, *secret, *region, *service),
            [key_id, secret] => {
                let (region, service) = from_host().ok_or_else(|| {
                    format!(
                        "the AWS secret for '{host}' needs :REGION:SERVICE (the host name does not say them)"
                    )
                })?;
                (*key_id, *secret, region, service)
            }
            _ => {
                return Err(format!(
                    "the AWS secret for '{host}' is not KEY_ID:SECRET[:REGION:SERVICE]"
                ));
            }
        };
        if [key_id, secret, region, service]
            .iter()
            .any(|p| p.is_empty())
        {
            return Err(format!("the AWS secret for '{host}' has an empty part"));
        }
        Ok(Credentials {
            key_id: key_id.to_owned(),
            secret: secret.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
        })
    }

    /// The secret access key, for redaction.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    // HMAC takes a key of any length: new_from_slice cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// RFC 3986 encoding of everything but the unreserved characters (`/` kept when
/// `keep_slash`).
fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let unreserved = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~');
        if unreserved || (keep_slash && byte == b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What a request is signed over.
pub struct Signed<'a> {
    pub method: &'a str,
    /// The URL path, as sent (`/`).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// Every header to sign, `host` and `x-amz-date` included.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body.
    pub payload_hash: &'a str,
    /// `YYYYMMDDTHHMMSSZ`, as in `x-amz-date`.
    pub amz_date: &'a str,
}

/// The `authorization` header value for `request` signed with `credentials`.
pub fn authorization(credentials: &Credentials, request: &Signed) -> String {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| {
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            (name.to_ascii_lowercase(), value)
        })
        .collect();
    headers.sort();
    let signed_headers = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    // Amazon S3 encodes the path once, every other service twice.
    let once = encode(request.path, true);
    let path = if credentials.service == "s3" {
        once
    } else {
        encode(&once, true)
    };
    let mut query: Vec<(String, String)> = request
        .query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (encode(k, false), encode(v, false))
        })
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let canonical = format!(
        "{}\n{path}\n{query}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method.to_ascii_uppercase(),
        request.payload_hash
    );
    let date = request.amz_date.get(..8).unwrap_or_default();
    let scope = format!(
        "{date}/{}/{}/aws4_request",
        credentials.region, credentials.service
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        request.amz_date,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = ["aws4_request"].iter().fold(
        hmac(
            &hmac(
                &hmac(format!("AWS4{}", credentials.secret).as_bytes(), date),
                &credentials.region,
            ),
            &credentials.service,
        ),
        |key, part| hmac(&key, part),
    );
    let signature = hex::encode(hmac(&key, &to_sign));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.key_id
    )
}

/// Hex SHA-256 of `body`.
pub fn payload_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's worked example "GET Object" (Amazon S3 API Reference, "Authenticating
    /// Requests: Using the Authorization Header", example credentials).
    #[test]
    fn the_aws_worked_example_signs_alike() {
        let credentials = Credentials::parse(
            "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY:us-east-1:s3",
            "examplebucket.s3.amazonaws.com",
        )
        .expect("credentials");
        let empty = payload_hash(b"");
        let headers = [
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", empty.as_str()),
            ("x-amz-date", "20130524T000000Z"),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()));
        let header = authorization(
            &credentials,
            &Signed {
                method: "GET",
                path: "/test.txt",
                query: "",
                headers: &headers,
                payload_hash: &empty,
                amz_date: "20130524T000000Z",
            },
        );
        assert_eq!(
            header,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn region_and_service_come_from_the_host_or_the_value() {
        let c = Credentials::parse("AKID:SECRET", "translate.eu-west-1.amazonaws.com").unwrap();
        assert_eq!(
            (c.region.as_str(), c.service.as_str()),
            ("eu-west-1", "translate")
        );
        assert!(Credentials::parse("AKID:SECRET", "127.0.0.1").is_err());
        let c = Credentials::parse("AKID:SECRET:us-east-1:translate", "127.0.0.1").unwrap();
        assert_eq!(c.region, "us-east-1");
        assert!(!format!("{c:?}").contains("SECRET"));
        assert!(Credentials::parse("AKID", "x.amazonaws.com").is_err());
    }
}
