//! What a plugin brings to the host: its manifest (the settings it declares, with
//! their types, and the hosts it asks for), the settings an admin gives it
//! against those declarations, and the signature it is installed with.

use std::collections::BTreeMap;

use crossdesk_sidecar::grant::{self, GrantDoc, Installed, TenantDoc};
use crossdesk_sidecar::runtime::http::HostPattern;
use crossdesk_sidecar::settings::{self, KeySpec, ValueKind};
use crossdesk_sidecar::signing::{self, TrustedKeys};
use serde::{Deserialize, Serialize};

/// A settings schema and values for it, as text: the declarations, one per line
/// (`name` or `name: type`), then an empty line, then settings, one `key=value`
/// per line.
///
/// ```text
/// engine: one-of(apertium|deepl)
/// top_k: int(1..20)
///
/// engine=deepl
/// ```
pub fn settings(data: &[u8]) {
    let Some(text) = crate::text(data) else {
        return;
    };
    let (declarations, values) = text.split_once("\n\n").unwrap_or((text, ""));
    let declarations: Vec<&str> = declarations.lines().collect();
    let values: BTreeMap<String, String> = values
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    if let Ok(specs) = settings::parse_specs(&declarations) {
        check_schema(&specs);
        check_values(&specs, &values);
    }
}

/// The declarations of an installed plugin, as the admin API lists them
/// (`name: type`), parse back to the same declarations.
fn check_schema(specs: &[KeySpec]) {
    let shown: Vec<String> = specs.iter().map(ToString::to_string).collect();
    match settings::parse_specs(&shown) {
        Ok(again) => assert_eq!(
            again, specs,
            "the declarations changed once listed: {shown:?}"
        ),
        Err(e) => panic!("listed declarations {shown:?} do not parse: {e}"),
    }
}

/// Values checked against a schema: each accepted value is what its type says,
/// and a tenant's grant is refused exactly when a value is.
fn check_values(specs: &[KeySpec], values: &BTreeMap<String, String>) {
    let verdict = settings::validate(specs, values);
    for (key, value) in values {
        let Some(spec) = specs.iter().find(|s| &s.name == key) else {
            assert!(verdict.is_err(), "undeclared {key:?} accepted");
            continue;
        };
        if spec.check(value).is_err() {
            assert!(
                verdict.is_err(),
                "{key}={value:?} refused alone, accepted with the rest"
            );
            continue;
        }
        // What the module promises plugins that read the values.
        match &spec.kind {
            ValueKind::Bool => assert!(value.parse::<bool>().is_ok(), "{value:?}"),
            ValueKind::Int { min, max } => {
                let n: i64 = value.parse().unwrap_or_else(|_| panic!("{value:?} as int"));
                assert!(min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m));
            }
            ValueKind::OneOf(words) => assert!(words.contains(value)),
            ValueKind::Languages => {
                for item in settings::list_items(value) {
                    assert!(!item.is_empty(), "{value:?} has an empty language");
                }
            }
            // A plugin fetches the URL through the host, which parses it as a
            // browser does (reqwest's WHATWG parser): what the setting's type
            // accepts, the host can request.
            ValueKind::Url => match reqwest::Url::parse(value) {
                Ok(url) => {
                    assert!(matches!(url.scheme(), "http" | "https"), "{value:?}");
                    assert!(url.host_str().is_some_and(|h| !h.is_empty()), "{value:?}");
                }
                Err(e) => {
                    panic!("url setting {value:?} was accepted, the host cannot parse it: {e}")
                }
            },
            ValueKind::Text | ValueKind::List | ValueKind::Language => {}
        }
    }
    let bounds = grant::Bounds::defaults();
    let doc = TenantDoc {
        plugins: vec![GrantDoc {
            settings: values.clone(),
            ..GrantDoc::new("p")
        }],
        ..TenantDoc::default()
    };
    let installed = |name: &str| (name == "p").then_some(Installed::Settings(specs));
    let granted = grant::validate(&doc, &installed, &bounds, grant::Granter::Operator);
    assert_eq!(
        granted.is_ok(),
        verdict.is_ok(),
        "grant {granted:?} / settings {verdict:?}"
    );
}

/// A plugin's manifest, as its `manifest()` export gives it to the host (the
/// fields the host reads), in JSON, with a tenant's grant of the plugin.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ManifestInput {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) version: String,
    /// Event kinds by their contract names (`customer-message`, or a custom name).
    #[serde(default)]
    pub(crate) events: Vec<String>,
    #[serde(default)]
    pub(crate) kv: bool,
    #[serde(default)]
    pub(crate) outbound_hosts: Vec<String>,
    /// Declarations, `name` or `name: type`.
    #[serde(default)]
    pub(crate) settings: Vec<String>,
    #[serde(default)]
    pub(crate) cacheable: bool,
    /// A tenant's grant of the plugin (`[[tenants.plugins]]` as JSON).
    #[serde(default)]
    pub(crate) grant: Option<GrantDoc>,
}

/// A manifest ([`ManifestInput`] in JSON) loaded by the host, and a tenant's grant
/// of the plugin checked against it.
pub fn manifest(data: &[u8]) {
    let Ok(input) = serde_json::from_slice::<ManifestInput>(data) else {
        return;
    };
    // The host refuses a plugin whose declarations do not parse.
    let Ok(specs) = settings::parse_specs(&input.settings) else {
        return;
    };
    check_schema(&specs);
    // Granting a plugin the hosts it asks for is granting what HostPattern reads.
    for host in &input.outbound_hosts {
        let _ = HostPattern::parse(host);
    }
    let Some(grant) = input.grant else {
        return;
    };
    let bounds = grant::Bounds::defaults();
    let mut doc = TenantDoc {
        plugins: vec![grant],
        ..TenantDoc::default()
    };
    // Orders for the plugin's events, which name it alone.
    let name = doc.plugins[0].name.clone();
    for event in &input.events {
        doc.pipelines.insert(event.clone(), vec![name.clone()]);
    }
    let installed = |n: &str| (n == input.name).then_some(Installed::Settings(&specs));
    let verdict = grant::validate(&doc, &installed, &bounds, grant::Granter::Operator);
    if verdict.is_ok() {
        let grant = &doc.plugins[0];
        assert_eq!(grant.name, input.name);
        assert!(settings::validate(&specs, &grant.settings).is_ok());
        for host in &grant.allowed_hosts {
            assert!(HostPattern::parse(host).is_ok(), "allowed host {host:?}");
        }
        assert!(!input.events.iter().any(String::is_empty));
    }
    // The admin API and the store carry a grant as JSON, secrets by name only.
    let mut stored = doc;
    for secret in stored.plugins.iter_mut().flat_map(|g| &mut g.secrets) {
        let _ = secret.take_value();
    }
    let json = serde_json::to_string(&stored).unwrap_or_else(|e| panic!("{e}"));
    let back: TenantDoc = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("a stored grant does not parse: {e}\n{json}"));
    assert_eq!(back, stored, "the grant changed through JSON:\n{json}");
    assert_eq!(
        grant::validate(&back, &installed, &bounds, grant::Granter::Operator).is_ok(),
        verdict.is_ok()
    );
}

/// The secret key (base64 of a 32-byte seed, `crossdesk-fuzz-test-key-not-secr`)
/// the signature target signs with.
pub(crate) const TEST_SECRET_KEY: &str = "Y3Jvc3NkZXNrLWZ1enotdGVzdC1rZXktbm90LXNlY3I=";

/// A signed plugin, as text: trusted public keys (base64), one per line, an empty
/// line, the signature (base64) on one line, then the component's bytes.
pub fn signature(data: &[u8]) {
    let (keys, rest) = split_at_blank_line(data);
    let keys: Vec<String> = String::from_utf8_lossy(keys)
        .lines()
        .map(str::to_owned)
        .collect();
    let (signature, component) = match rest.iter().position(|&b| b == b'\n') {
        Some(end) => (&rest[..end], &rest[end + 1..]),
        None => (rest, &[][..]),
    };
    let signature = std::str::from_utf8(signature).ok();
    if let Ok(trusted) = TrustedKeys::parse(&keys)
        && let Ok(id) = trusted.verify(component, signature)
    {
        assert!(trusted.ids().contains(&id.as_str()), "{id} is not trusted");
        // A signature covers its component's bytes and nothing else.
        let mut other = component.to_vec();
        other.push(b'\n');
        assert!(
            trusted.verify(&other, signature).is_err(),
            "verified another component"
        );
    }
    // A component signed with a key verifies with that key, and only with it.
    let public =
        signing::public_key_of(TEST_SECRET_KEY).unwrap_or_else(|e| panic!("the test key: {e}"));
    let made = signing::sign(TEST_SECRET_KEY, component).unwrap_or_else(|e| panic!("{e}"));
    let by_it = TrustedKeys::parse(std::slice::from_ref(&public)).unwrap_or_else(|e| panic!("{e}"));
    let id = signing::key_id(&public).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(by_it.verify(component, Some(&made)).ok(), Some(id));
    if let Ok(trusted) = TrustedKeys::parse(&keys)
        && !trusted.ids().iter().any(|k| by_it.ids().contains(k))
    {
        assert!(trusted.verify(component, Some(&made)).is_err());
    }
}

/// The bytes before the first empty line, and those after it.
pub(crate) fn split_at_blank_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    }
}
