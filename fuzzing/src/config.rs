//! Configuration files in TOML: the sidecar's (`crossdesk serve --config`, with
//! its tenants and their grants) and the bridge's (`crossdesk bridge serve
//! --config`).

use crossdesk_bridge::BridgeConfig;
use crossdesk_sidecar::config::Config;
use crossdesk_sidecar::control::tenant_from_config;
use crossdesk_sidecar::grant::{self, Installed, TenantDoc, check_tenant_id};
use crossdesk_sidecar::runtime::http::{OutboundPolicy, Secret};

/// A configuration file, read as the sidecar's and as the bridge's.
pub fn config(data: &[u8]) {
    let Some(text) = crate::text(data) else {
        return;
    };
    if let Ok(config) = Config::parse(text) {
        check_sidecar(&config);
    }
    // The bridge reads the mapping files an endpoint names from disk: the
    // `mapping` target covers their contents, and a generated path must not send
    // the fuzzer reading the machine's files.
    if toml::from_str::<BridgeConfig>(text)
        .is_ok_and(|parsed| parsed.endpoints.iter().all(|e| e.mapping.is_none()))
    {
        let _ = BridgeConfig::parse(text);
    }
}

/// What an accepted sidecar configuration promises.
fn check_sidecar(config: &Config) {
    let bounds = config
        .bounds()
        .unwrap_or_else(|e| panic!("an accepted configuration has no bounds: {e}"));
    let ceiling = config.max_limits();
    let installed = |name: &str| {
        config
            .plugins
            .iter()
            .any(|p| p.name == name)
            .then_some(Installed::NotLoaded)
    };
    let _ = config.check_event_api_access();
    for tenant in &config.tenants {
        assert!(
            check_tenant_id(&tenant.id).is_ok(),
            "tenant {:?}",
            tenant.id
        );
        let doc = tenant.doc();
        // The plugin pool is sized for every grant's limits.
        for grant in &doc.plugins {
            let limits = config.limits.with(&grant.limits);
            assert!(limits.max_memory_bytes <= ceiling.max_memory_bytes);
            assert!(limits.max_table_elements <= ceiling.max_table_elements);
            assert!(limits.max_instances <= ceiling.max_instances);
        }
        // The store keeps a tenant as JSON, its secrets by name only: what it
        // stores reads back the same and passes the same validation.
        let mut stored = doc.clone();
        for secret in stored.plugins.iter_mut().flat_map(|g| &mut g.secrets) {
            let _ = secret.take_value();
        }
        let json = serde_json::to_string(&stored)
            .unwrap_or_else(|e| panic!("tenant {} does not serialize: {e}", tenant.id));
        let back: TenantDoc = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("stored tenant does not parse: {e}\n{json}"));
        assert_eq!(
            back, stored,
            "the tenant changed through its stored JSON:\n{json}"
        );
        // What the sidecar builds a tenant's steps from: its grants' outbound
        // policies, with the secrets the file gives (as `make_step` does).
        let (doc, secrets) = tenant_from_config(tenant)
            .unwrap_or_else(|e| panic!("tenant {} was accepted: {e}", tenant.id));
        for grant in doc.plugins.iter().filter(|g| !g.allowed_hosts.is_empty()) {
            let headers: Vec<Secret<'_>> = secrets
                .get(&grant.name)
                .into_iter()
                .flatten()
                .map(|s| Secret {
                    host: &s.host,
                    header: &s.header,
                    value: &s.value,
                })
                .collect();
            if let Err(e) =
                OutboundPolicy::new(&grant.allowed_hosts, &headers, bounds.private_hosts.clone())
            {
                panic!(
                    "tenant {} plugin {} was accepted, its outbound policy cannot be built: {e}",
                    tenant.id, grant.name
                );
            }
        }
        if let Err(e) = grant::validate(&back, &installed, &bounds, grant::Granter::Operator) {
            panic!(
                "tenant {} was accepted, its stored form is not: {e}",
                tenant.id
            );
        }
    }
}
