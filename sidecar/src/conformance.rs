//! The conformance kit (`crossdesk plugin check`): the rules a plugin component
//! must pass before an operator installs it, checked by loading it and calling it
//! in the real sandbox, rule by rule, with a verdict and a reason for each.
//!
//! The plugin runs with exactly what its manifest declares (storage if it asks for
//! it, the hosts it names, its settings) and nothing more, so a refusal means it
//! used something it did not declare. Reading another plugin's storage, which an
//! admin grants and no manifest declares, is given only as the person checking
//! asks (`--kv-read`).

use std::path::Path;
use std::sync::Arc;

use crossdesk_proto::pb;

use crate::limits::Limits;
use crate::runtime::http::OutboundPolicy;
use crate::runtime::{FailureKind, Grant, Isolation, KvRead, LoadError, LoadedPlugin, Runtime};

/// One rule of the kit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Contract,
    Manifest,
    Settings,
    Events,
    Output,
    Capabilities,
    Deterministic,
    Deadline,
}

impl Rule {
    /// Every rule, in the order they are checked and reported.
    pub const ALL: [Rule; 8] = [
        Rule::Contract,
        Rule::Manifest,
        Rule::Settings,
        Rule::Events,
        Rule::Output,
        Rule::Capabilities,
        Rule::Deterministic,
        Rule::Deadline,
    ];

    /// The rule's name in reports and JSON.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Contract => "contract",
            Rule::Manifest => "manifest",
            Rule::Settings => "settings",
            Rule::Events => "events",
            Rule::Output => "output",
            Rule::Capabilities => "capabilities",
            Rule::Deterministic => "deterministic",
            Rule::Deadline => "deadline",
        }
    }

    /// What the rule asks, in one line.
    pub fn asks(self) -> &'static str {
        match self {
            Rule::Contract => "a WebAssembly component for a contract version this host loads",
            Rule::Manifest => "manifest() answers with a valid manifest",
            Rule::Settings => {
                "every declared setting has a valid name and type, and those it is run with are declared and of their type"
            }
            Rule::Events => {
                "each declared event kind is answered: actions or the plugin's own error, never a trap"
            }
            Rule::Output => "actions within the output limit and valid for their event",
            Rule::Capabilities => {
                "no capability used that it was not granted: what the manifest declares, and other plugins' storage only as --kv-read grants it"
            }
            Rule::Deterministic => "a cacheable plugin answers the same input the same way",
            Rule::Deadline => "every call finishes within its deadline",
        }
    }
}

/// A rule's verdict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed,
    /// Not checked: an earlier rule failed, or the rule does not apply.
    NotChecked,
}

/// What the kit found for one rule.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub verdict: Verdict,
    pub detail: String,
}

/// The kit's report on one component.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// The plugin's name and version, once its manifest was read.
    pub plugin: Option<String>,
    pub passed: bool,
    pub findings: Vec<Finding>,
}

/// What the plugin is checked with.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Events to call it with; the kit's samples, one per event kind, when empty.
    pub events: Vec<pb::Event>,
    /// Settings as a tenant admin would give them.
    pub settings: Vec<(String, String)>,
    /// Limits of each call (deadline, memory, output).
    pub limits: Limits,
    /// Hosts the person checking lets resolve to loopback or a private network
    /// (a local engine), as an operator's `private_hosts`; the plugin reaches
    /// only those its manifest declares, and the others on public addresses.
    pub private_hosts: Vec<String>,
    /// Plugins whose storage it may read (`@<plugin>/<key>`), as an admin's
    /// `kv_read` grant allows: no manifest declares it.
    pub kv_read: Vec<String>,
}

/// Checks the component in `file`; `data_dir` holds its storage if it asks for any.
pub async fn check(
    runtime: &Runtime,
    file: &Path,
    options: &CheckOptions,
    data_dir: &Path,
) -> Report {
    let mut findings = Findings::default();
    let plugin = match runtime.load(file).await {
        Ok(plugin) => plugin,
        Err(error) => {
            let failed = match &error {
                LoadError::Manifest { .. } => Rule::Manifest,
                LoadError::Settings { .. } => Rule::Settings,
                _ => Rule::Contract,
            };
            for rule in Rule::ALL.into_iter().take_while(|r| *r != failed) {
                findings.pass(rule, "");
            }
            findings.fail(failed, error.to_string());
            return findings.report(None);
        }
    };
    let manifest = &plugin.manifest;
    findings.pass(
        Rule::Contract,
        format!("crossdesk:plugin@{}", plugin.contract.version()),
    );
    findings.pass(Rule::Manifest, "");
    let name = Some(format!("{} {}", manifest.name, manifest.version));
    // The settings it is checked with, held to its declarations as a tenant
    // admin's would be.
    let given: std::collections::BTreeMap<String, String> =
        options.settings.iter().cloned().collect();
    if let Err(error) = crate::settings::validate(&manifest.settings, &given) {
        findings.fail(Rule::Settings, error.to_string());
        return findings.report(name);
    }
    findings.pass(
        Rule::Settings,
        format!("{} declared", manifest.declared_settings.len()),
    );
    let grant = match declared_grant(&plugin, options, data_dir) {
        Ok(grant) => grant,
        Err(message) => {
            findings.fail(Rule::Capabilities, message);
            return findings.report(name);
        }
    };
    let events = if options.events.is_empty() {
        sample_events()
    } else {
        options.events.clone()
    };

    let mut handled = Vec::new();
    let mut reported = Vec::new();
    let mut skipped = Vec::new();
    let mut answered = Vec::new();
    for event in &events {
        let wit_event = Arc::new(crate::runtime::plugin_event(event));
        let kind = crate::runtime::kind_name(&wit_event.kind);
        if !manifest.handles(&wit_event.kind) {
            skipped.push(kind);
            continue;
        }
        match runtime.call(&plugin, &grant, &wit_event).await {
            Ok(actions) => {
                handled.push(kind);
                answered.push((wit_event, actions));
            }
            // Its own error, e.g. data a tenant has not imported yet: handled.
            Err(failure) if failure.kind == FailureKind::Reported => {
                reported.push(format!("{kind} ({})", failure.message));
            }
            Err(failure) => {
                let rule = match failure.kind {
                    FailureKind::Failed | FailureKind::Reported => Rule::Events,
                    FailureKind::InvalidOutput => Rule::Output,
                    FailureKind::Denied => Rule::Capabilities,
                    FailureKind::TimedOut => Rule::Deadline,
                };
                findings.fail(rule, format!("on {kind}: {}", failure.message));
            }
        }
    }
    if handled.is_empty() && reported.is_empty() && findings.0.is_empty() {
        findings.fail(
            Rule::Events,
            format!(
                "no sample event is of a declared kind ({})",
                manifest.event_names().join(", ")
            ),
        );
    }
    findings.pass(
        Rule::Events,
        format!(
            "answered: {}; its own error: {}; not declared, so skipped by the host: {}",
            list(&handled),
            list(&reported),
            list(&skipped)
        ),
    );
    findings.pass(Rule::Output, "");
    findings.pass(Rule::Capabilities, "");

    if !manifest.cacheable {
        findings.not_checked(Rule::Deterministic, "not cacheable");
    } else {
        // Twice more on one warm instance: an answer that depends on what an
        // earlier call left in memory differs here.
        let warm = Arc::new(Grant {
            isolation: Isolation::Tenant,
            ..(*grant).clone()
        });
        for (wit_event, first) in &answered {
            for _ in 0..2 {
                match runtime.call(&plugin, &warm, wit_event).await {
                    Ok(again) if again == *first => {}
                    Ok(again) => {
                        let kind = crate::runtime::kind_name(&wit_event.kind);
                        findings.fail(
                            Rule::Deterministic,
                            format!("on {kind}, {first:?} and then {again:?}"),
                        );
                    }
                    // Reported by the rules above on the first call.
                    Err(_) => {}
                }
            }
        }
        findings.pass(
            Rule::Deterministic,
            "same actions for the same event, 3 times",
        );
    }
    findings.pass(
        Rule::Deadline,
        format!("within {} ms", options.limits.timeout_ms),
    );
    findings.report(name)
}

/// The grant of exactly what the manifest declares.
fn declared_grant(
    plugin: &LoadedPlugin,
    options: &CheckOptions,
    data_dir: &Path,
) -> Result<Arc<Grant>, String> {
    let manifest = &plugin.manifest;
    let store = || crate::store::Store::open(data_dir).map_err(|e| e.to_string());
    let kv = if manifest.wants_kv {
        Some(store()?)
    } else {
        None
    };
    let kv_read = if options.kv_read.is_empty() {
        None
    } else {
        Some(KvRead {
            store: store()?,
            plugins: options.kv_read.clone(),
        })
    };
    Ok(Arc::new(Grant {
        settings: options.settings.clone(),
        kv,
        kv_read,
        outbound: declared_outbound(&manifest.outbound_hosts, &options.private_hosts)?,
        isolation: Isolation::Event,
        ..Grant::nothing("conformance", &manifest.name, options.limits)
    }))
}

/// The hosts a manifest declares, on public addresses unless the person
/// checking listed them in `private`: the plugin is not trusted yet, and a host
/// it names itself must not open the checker's loopback or private network.
fn declared_outbound(
    hosts: &[String],
    private: &[String],
) -> Result<Option<OutboundPolicy>, String> {
    OutboundPolicy::standalone(hosts, private).map_err(|e| format!("declared outbound hosts: {e}"))
}

/// One event of each kind a helpdesk sends, as a customer abroad would cause it.
pub fn sample_events() -> Vec<pb::Event> {
    use pb::EventKind as K;
    [
        K::CustomerMessage,
        K::AgentReplyDrafted,
        K::TicketCreated,
        K::TicketSolved,
        K::SatisfactionRated,
        K::CustomerRegistered,
        K::PurchaseRecorded,
        K::ProfileUpdated,
        K::TranslationCorrected,
    ]
    .into_iter()
    .enumerate()
    .map(|(i, kind)| pb::Event {
        tenant_id: "conformance".into(),
        event_id: format!("conformance-{i}"),
        kind: kind as i32,
        channel: pb::Channel::WebChat as i32,
        ticket_id: "ticket-1".into(),
        customer: Some(pb::Customer {
            id: "customer-1".into(),
            locale: "es-MX".into(),
            ..Default::default()
        }),
        text: match kind {
            K::AgentReplyDrafted => "Your order #1234 ships tomorrow.".into(),
            _ => "Hola, ¿dónde está mi pedido #1234?".into(),
        },
        ..Default::default()
    })
    .collect()
}

fn list(kinds: &[String]) -> String {
    if kinds.is_empty() {
        "none".into()
    } else {
        kinds.join(", ")
    }
}

/// Findings by rule; the first verdict given for a rule stands.
#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn give(&mut self, rule: Rule, verdict: Verdict, detail: String) {
        if !self.0.iter().any(|f| f.rule == rule.id()) {
            self.0.push(Finding {
                rule: rule.id(),
                verdict,
                detail,
            });
        }
    }

    fn pass(&mut self, rule: Rule, detail: impl Into<String>) {
        self.give(rule, Verdict::Passed, detail.into());
    }

    fn fail(&mut self, rule: Rule, detail: impl Into<String>) {
        self.give(rule, Verdict::Failed, detail.into());
    }

    fn not_checked(&mut self, rule: Rule, detail: impl Into<String>) {
        self.give(rule, Verdict::NotChecked, detail.into());
    }

    /// The report, every rule in order; rules never reached are not checked.
    fn report(mut self, plugin: Option<String>) -> Report {
        for rule in Rule::ALL {
            self.not_checked(rule, "an earlier rule failed");
        }
        let mut findings = self.0;
        findings.sort_by_key(|f| Rule::ALL.iter().position(|r| r.id() == f.rule));
        Report {
            plugin,
            passed: findings.iter().all(|f| f.verdict != Verdict::Failed),
            findings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::http::OutboundError;

    #[tokio::test]
    async fn a_host_the_plugin_declares_does_not_open_loopback() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let host = listener.local_addr().expect("addr").to_string();
        let declared = std::slice::from_ref(&host);
        let url = format!("http://{host}/");
        let outbound = declared_outbound(declared, &[])
            .expect("policy")
            .expect("a host declared");
        let err = outbound
            .send("GET", &url, vec![], vec![], 1024)
            .await
            .expect_err("loopback refused");
        assert!(
            matches!(&err, OutboundError::Denied(m) if m.contains("not public")),
            "{err:?}"
        );
        // Listed by the person checking, it is reached (the connection then
        // fails on its own: nothing answers HTTP here).
        let vouched = declared_outbound(declared, &["127.0.0.1".to_owned()])
            .expect("policy")
            .expect("a host declared");
        drop(listener);
        let err = vouched
            .send("GET", &url, vec![], vec![], 1024)
            .await
            .expect_err("nothing listens");
        assert!(!matches!(&err, OutboundError::Denied(_)), "{err:?}");
        assert!(declared_outbound(&[], &[]).expect("none").is_none());
    }
}
