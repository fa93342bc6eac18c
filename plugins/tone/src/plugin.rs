//! The plugin: its settings, the review of one draft, and the actions it returns.

use crossdesk_sdk::{
    Action, Event, EventKind, Manifest, Plugin, PluginError, ReviewFlag, settings,
};

use crate::language::{self, Detected, Evidence, Reply};
use crate::names::{self, Name, Title};
use crate::profile::{Profile, Profiles, Selection};
use crate::rules::{self, Applied, Input, Rule};
use crate::sensitive::{self, Hit, Lexicons};
use crate::spans;

/// The settings the plugin reads, all optional.
pub const SETTING_KEYS: &[&str] = &["overrides", "competitors", "keep_terms", "disabled_rules"];

/// The tone plugin.
///
/// ```
/// use crossdesk_sdk::{Action, Customer, Event, EventKind, Plugin, testing::MockHost};
/// use tone::Tone;
///
/// let _host = MockHost::new().install();
/// let draft = Event::new(EventKind::AgentReplyDrafted, "Your parcel is on its way.")
///     .with_customer(Customer {
///         locale: Some("en-GB".into()),
///         display_name: Some("Anna Smith".into()),
///         ..Default::default()
///     });
/// let actions = Tone::handle(draft).unwrap();
/// assert_eq!(
///     actions[0],
///     Action::ReplaceDraft("Dear Anna Smith,\n\nYour parcel is on its way.\n\nKind regards,".into())
/// );
/// assert!(matches!(&actions[1], Action::InternalNote(n) if n.contains("greeting.add")));
/// ```
pub struct Tone;

impl Plugin for Tone {
    fn manifest() -> Manifest {
        let mut manifest = Manifest::new("tone", env!("CARGO_PKG_VERSION"))
            .describe(
                "Adapts reply drafts to the customer's culture (greeting, honorifics, register, \
                 directness, emoji) and flags sensitive topics for review",
            )
            .handles(EventKind::AgentReplyDrafted)
            .cacheable(true);
        // Each is a comma-separated list (`overrides` entries are checked by the
        // plugin itself: they name locales and fields of its data table).
        for key in SETTING_KEYS {
            manifest = manifest.reads_setting(format!("{key}: list"));
        }
        manifest
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        if event.kind != EventKind::AgentReplyDrafted {
            return Ok(Vec::new());
        }
        let settings = Settings::load()?;
        Ok(review(&Draft::from_event(&event), &settings).map_or_else(Vec::new, |r| r.actions()))
    }
}

/// The tenant's settings, with the data tables (overrides applied).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The tone profiles.
    pub profiles: Profiles,
    /// The sensitive-topic lexicons.
    pub lexicons: Lexicons,
    /// The overrides applied (`overrides`), as `locale.field=value`.
    pub overrides: Vec<String>,
    /// The tenant's competitors (`competitors`).
    pub competitors: Vec<String>,
    /// Terms never touched (`keep_terms`).
    pub keep_terms: Vec<String>,
    /// Rules switched off (`disabled_rules`).
    pub disabled: Vec<Rule>,
    /// Sensitive categories switched off (`disabled_rules` entries `sensitive.<category>`).
    pub disabled_categories: Vec<String>,
}

fn list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or("")
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Settings {
    /// Reads the settings from the host.
    pub fn load() -> Result<Settings, PluginError> {
        let pairs: Vec<(String, String)> = SETTING_KEYS
            .iter()
            .filter_map(|k| settings::get(k).map(|v| ((*k).to_owned(), v)))
            .collect();
        Settings::from_pairs(&pairs).map_err(PluginError::new)
    }

    /// Builds the settings from `(key, value)` pairs; a value that makes no sense is
    /// an error naming the key and the value.
    ///
    /// ```
    /// let s = tone::Settings::from_pairs(&[("competitors".into(), "Zentrix, HelpHub".into())]).unwrap();
    /// assert_eq!(s.competitors, ["Zentrix", "HelpHub"]);
    /// let err = tone::Settings::from_pairs(&[("overrides".into(), "xx-XX.emoji=keep".into())]).unwrap_err();
    /// assert!(err.starts_with("setting overrides: "));
    /// ```
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Settings, String> {
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let mut profiles = Profiles::embedded()?;
        let lexicons = Lexicons::embedded()?;
        let overrides = profiles
            .apply_overrides(get("overrides").unwrap_or(""))
            .map_err(|e| format!("setting overrides: {e}"))?;
        let mut disabled = Vec::new();
        let mut disabled_categories = Vec::new();
        for id in list(get("disabled_rules")) {
            if let Some(rule) = Rule::from_id(&id) {
                disabled.push(rule);
            } else if id == "sensitive" {
                disabled_categories.extend(sensitive::CATEGORIES.iter().map(|c| (*c).to_owned()));
            } else if let Some(category) = id
                .strip_prefix("sensitive.")
                .filter(|c| sensitive::CATEGORIES.contains(c))
            {
                disabled_categories.push(category.to_owned());
            } else {
                let known: Vec<String> = Rule::ALL
                    .iter()
                    .map(|r| r.id().to_owned())
                    .chain(std::iter::once("sensitive".to_owned()))
                    .chain(
                        sensitive::CATEGORIES
                            .iter()
                            .map(|c| format!("sensitive.{c}")),
                    )
                    .collect();
                return Err(format!(
                    "setting disabled_rules: unknown rule {id:?} (rules: {})",
                    known.join(", ")
                ));
            }
        }
        Ok(Settings {
            profiles,
            lexicons,
            overrides,
            competitors: list(get("competitors")),
            keep_terms: list(get("keep_terms")),
            disabled,
            disabled_categories,
        })
    }
}

/// What the plugin reads from a reply-draft event.
#[derive(Debug, Clone, Default)]
pub struct Draft<'a> {
    /// The draft.
    pub text: &'a str,
    /// The customer's locale (BCP 47).
    pub locale: Option<&'a str>,
    /// The customer's country (ISO 3166-1 alpha-2).
    pub country: Option<&'a str>,
    /// The customer's display name.
    pub display_name: Option<&'a str>,
    /// Event attribute `customer.title`.
    pub title: Option<&'a str>,
    /// Event attribute `customer.given_name`.
    pub given_name: Option<&'a str>,
    /// Event attribute `customer.family_name`.
    pub family_name: Option<&'a str>,
    /// The agent's working language.
    pub agent_language: Option<&'a str>,
}

impl<'a> Draft<'a> {
    /// The draft of an `AgentReplyDrafted` event.
    pub fn from_event(event: &'a Event) -> Draft<'a> {
        let customer = event.customer.as_ref();
        Draft {
            text: &event.text,
            locale: customer.and_then(|c| c.locale.as_deref()),
            country: customer.and_then(|c| c.country.as_deref()),
            display_name: customer.and_then(|c| c.display_name.as_deref()),
            title: event.attribute("customer.title"),
            given_name: event.attribute("customer.given_name"),
            family_name: event.attribute("customer.family_name"),
            agent_language: event
                .agent
                .as_ref()
                .and_then(|a| a.working_language.as_deref()),
        }
    }
}

/// The outcome of reviewing one draft.
#[derive(Debug, Clone)]
pub struct Review {
    /// The profile used (overrides applied).
    pub profile: Profile,
    /// How it was chosen.
    pub selection: Selection,
    /// The language of the reply (`None`: a script the plugin has no formulas for).
    pub reply: Option<Reply>,
    /// How the language was decided.
    pub evidence: Option<Evidence>,
    /// The draft as it came.
    pub original: String,
    /// The rewritten draft (the original when flagged or nothing applied).
    pub text: String,
    /// The rules that changed the text.
    pub applied: Vec<Applied>,
    /// Note-only findings.
    pub findings: Vec<Applied>,
    /// Sensitive-topic hits; when there are any, the text is not rewritten.
    pub flags: Vec<Hit>,
    /// The data versions: (profiles, lexicons).
    pub versions: (String, String),
    /// The overrides that touch this profile.
    pub overrides: Vec<String>,
}

/// Reviews a draft: `None` when no profile fits the customer (no change at all).
///
/// ```
/// use tone::{review, Draft, Settings};
/// let settings = Settings::from_pairs(&[]).unwrap();
/// let draft = Draft { text: "Your order has shipped.", locale: Some("ru-RU"), ..Default::default() };
/// assert!(review(&draft, &settings).is_none());
/// ```
pub fn review(draft: &Draft, settings: &Settings) -> Option<Review> {
    let (profile, selection) = settings.profiles.select(draft.locale, draft.country)?;
    let profile = profile.clone();
    let spans = spans::find(draft.text, &settings.keep_terms);
    let name: Option<Name> = names::parse_name(
        draft.display_name.unwrap_or(""),
        draft.given_name,
        draft.family_name,
        profile.language,
    );
    // The customer's name says nothing about the reply's language ("Dear 山田 太郎,"
    // is English): it is blanked out for detection, like the spans.
    let mut unread = settings.keep_terms.clone();
    if let Some(n) = &name {
        unread.extend(
            [Some(&n.full), n.given.as_ref(), n.family.as_ref()]
                .into_iter()
                .flatten()
                .cloned(),
        );
    }
    let detection_spans = spans::find(draft.text, &unread);
    let (reply, evidence) = match language::detect(
        draft.text,
        &detection_spans,
        draft.agent_language,
        Some(profile.locale.as_str()),
    ) {
        Detected::Supported(reply, evidence) => (Some(reply), Some(evidence)),
        Detected::Unsupported | Detected::Unknown => (None, None),
    };
    let title: Option<Title> = draft.title.and_then(names::parse_title);
    let input = Input {
        profile: &profile,
        reply,
        name: name.as_ref(),
        title: title.as_ref(),
        keep_terms: &settings.keep_terms,
        disabled: &settings.disabled,
    };
    let flags = settings.lexicons.scan(
        draft.text,
        &spans,
        reply.map(|r| r.lang),
        &profile.locale,
        &settings.competitors,
        &settings.disabled_categories,
    );
    let (text, applied) = if flags.is_empty() {
        let rewrite = rules::rewrite(draft.text, &input);
        (rewrite.text, rewrite.applied)
    } else {
        (draft.text.to_owned(), Vec::new())
    };
    // What the rewrite left in the wrong pronoun, read on the text the customer gets.
    let findings = rules::register_findings(&text, &input);
    let overrides = settings
        .overrides
        .iter()
        .filter(|o| {
            let locale = o.split('.').next().unwrap_or("");
            locale == "*"
                || locale
                    .replace('_', "-")
                    .eq_ignore_ascii_case(&profile.locale)
        })
        .cloned()
        .collect();
    Some(Review {
        versions: (
            settings.profiles.version.clone(),
            settings.lexicons.version.clone(),
        ),
        profile,
        selection,
        reply,
        evidence,
        original: draft.text.to_owned(),
        text,
        applied,
        findings,
        flags,
        overrides,
    })
}

impl Review {
    /// Whether the draft is to be replaced.
    pub fn changed(&self) -> bool {
        self.flags.is_empty() && self.text != self.original
    }

    /// The actions: a flag per sensitive hit, the replacement when the text changed,
    /// and a note whenever anything was flagged, applied or found. Nothing at all
    /// when no rule applied (a note on every draft would bury the ticket).
    pub fn actions(&self) -> Vec<Action> {
        let mut actions: Vec<Action> = self
            .flags
            .iter()
            .map(|h| {
                Action::FlagForReview(ReviewFlag {
                    category: h.category.clone(),
                    reason: h.reason(),
                })
            })
            .collect();
        if self.changed() {
            actions.push(Action::ReplaceDraft(self.text.clone()));
        }
        if !self.flags.is_empty() || self.changed() || !self.findings.is_empty() {
            actions.push(Action::InternalNote(self.note()));
        }
        actions
    }

    /// The note for agents: the profile, the reply's language, what was done.
    pub fn note(&self) -> String {
        let p = &self.profile;
        let language = match (self.reply, self.evidence) {
            (Some(r), Some(e)) => {
                let script = if r.lang == language::Lang::Zh {
                    if r.traditional {
                        ", Traditional"
                    } else {
                        ", Simplified"
                    }
                } else {
                    ""
                };
                format!(
                    "reply in {} ({}{script}, by {})",
                    r.lang.name(),
                    r.lang.code(),
                    e.describe()
                )
            }
            _ => "reply language not supported (only the emoji and exclamation rules apply)"
                .to_owned(),
        };
        let mut note = format!(
            "Tone: profile {} ({}) · {}-context, {} register · {} · profiles data {}, lexicons {}",
            p.locale,
            self.selection,
            p.context.name(),
            p.register.name(),
            language,
            self.versions.0,
            self.versions.1
        );
        if !self.overrides.is_empty() {
            note.push_str(&format!(
                " · tenant overrides: {}",
                self.overrides.join("; ")
            ));
        }
        if !self.flags.is_empty() {
            note.push_str("\n\nFlagged for review; the draft was not rewritten:");
            for h in &self.flags {
                note.push_str(&format!("\n- sensitive.{}: {}", h.category, h.reason()));
            }
        }
        if !self.applied.is_empty() {
            note.push_str("\n\nRules applied:");
            for a in &self.applied {
                note.push_str(&format!("\n- {}: {}", a.rule.id(), a.detail));
            }
        }
        if !self.findings.is_empty() {
            note.push_str("\n\nFindings (not rewritten):");
            for a in &self.findings {
                note.push_str(&format!("\n- {}: {}", a.rule.id(), a.detail));
            }
        }
        note
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossdesk_sdk::testing::MockHost;
    use crossdesk_sdk::{Agent, Customer};

    fn draft(text: &str, locale: Option<&str>, name: &str) -> Event {
        Event::new(EventKind::AgentReplyDrafted, text).with_customer(Customer {
            locale: locale.map(str::to_owned),
            display_name: Some(name.to_owned()),
            ..Default::default()
        })
    }

    #[test]
    fn manifest_declares_every_key_and_only_reply_drafts() {
        let m = Tone::manifest();
        assert_eq!(m.name, "tone");
        assert_eq!(m.events, vec![EventKind::AgentReplyDrafted]);
        let declared: Vec<String> = SETTING_KEYS.iter().map(|k| format!("{k}: list")).collect();
        assert_eq!(m.settings, declared);
        assert!(!m.kv && m.outbound_hosts.is_empty() && m.cacheable);
    }

    #[test]
    fn other_events_are_ignored() {
        MockHost::new().install();
        let e = Event::new(EventKind::CustomerMessage, "Hello!!!");
        assert_eq!(Tone::handle(e).unwrap(), vec![]);
    }

    #[test]
    fn no_profile_no_actions() {
        MockHost::new().install();
        assert_eq!(
            Tone::handle(draft("Hello!!!", None, "Ana")).unwrap(),
            vec![]
        );
        assert_eq!(
            Tone::handle(draft("Hello!!!", Some("ru-RU"), "Ana")).unwrap(),
            vec![]
        );
    }

    #[test]
    fn country_when_no_locale() {
        MockHost::new().install();
        let mut e = draft("ご注文の商品を発送しました。", None, "山田 太郎");
        if let Some(c) = e.customer.as_mut() {
            c.country = Some("JP".into());
        }
        let actions = Tone::handle(e).unwrap();
        assert!(matches!(&actions[0], Action::ReplaceDraft(t) if t.starts_with("山田様\n")));
        assert!(
            matches!(&actions[1], Action::InternalNote(n) if n.contains("profile ja-JP (country JP)"))
        );
    }

    #[test]
    fn empty_drafts_are_left_alone() {
        MockHost::new().install();
        assert_eq!(
            Tone::handle(draft("", Some("ja-JP"), "山田 太郎")).unwrap(),
            vec![]
        );
        assert_eq!(
            Tone::handle(draft(" \n\t", Some("de-DE"), "Anna Schmidt")).unwrap(),
            vec![]
        );
    }

    #[test]
    fn nothing_to_do_means_no_actions() {
        MockHost::new().install();
        let e = draft(
            "Hi Anna,\n\nYour order has shipped.",
            Some("en-US"),
            "Anna Smith",
        );
        assert_eq!(Tone::handle(e).unwrap(), vec![]);
    }

    #[test]
    fn flags_instead_of_rewriting() {
        MockHost::new().install();
        let e = draft(
            "The election delayed your parcel!!",
            Some("en-GB"),
            "Anna Smith",
        );
        let actions = Tone::handle(e).unwrap();
        assert!(
            matches!(&actions[0], Action::FlagForReview(f) if f.category == "politics" && f.reason.contains("\"election\""))
        );
        assert!(!actions.iter().any(|a| matches!(a, Action::ReplaceDraft(_))));
        assert!(
            matches!(actions.last(), Some(Action::InternalNote(n)) if n.contains("not rewritten"))
        );
    }

    #[test]
    fn competitors_come_from_settings() {
        MockHost::new().setting("competitors", "Zentrix").install();
        let e = draft(
            "Unlike Zentrix, which is terrible, we ship fast.",
            Some("en-US"),
            "Anna Smith",
        );
        let actions = Tone::handle(e).unwrap();
        assert!(
            matches!(&actions[0], Action::FlagForReview(f) if f.category == "competitor-disparagement")
        );
    }

    #[test]
    fn a_bad_setting_is_an_error_naming_it() {
        MockHost::new()
            .setting("overrides", "de-DE.register=casual")
            .install();
        let err = Tone::handle(draft("x", Some("de-DE"), "A")).unwrap_err();
        assert!(err.message.contains("setting overrides"), "{}", err.message);
        assert!(err.message.contains("\"casual\""), "{}", err.message);
        assert!(!err.retryable);
        MockHost::new()
            .setting("disabled_rules", "greeting.add, smile.more")
            .install();
        let err = Tone::handle(draft("x", Some("de-DE"), "A")).unwrap_err();
        assert!(
            err.message.contains("unknown rule \"smile.more\""),
            "{}",
            err.message
        );
    }

    #[test]
    fn disabled_rules_do_not_run() {
        MockHost::new()
            .setting("disabled_rules", "greeting.add, closing.add")
            .install();
        let e = draft("Your parcel is on its way!!", Some("en-GB"), "Anna Smith");
        let actions = Tone::handle(e).unwrap();
        assert_eq!(
            actions[0],
            Action::ReplaceDraft("Your parcel is on its way!".into())
        );
    }

    #[test]
    fn overrides_change_the_profile_and_show_in_the_note() {
        MockHost::new()
            .setting("overrides", "de-DE.register=informal")
            .install();
        let e = draft("Dein Paket ist unterwegs.", Some("de-DE"), "Anna Schmidt");
        let actions = Tone::handle(e).unwrap();
        assert!(
            matches!(&actions[0], Action::ReplaceDraft(t) if t.starts_with("Hallo Anna,") && t.ends_with("Viele Grüße"))
        );
        assert!(
            matches!(&actions[1], Action::InternalNote(n) if n.contains("de-DE.register=informal"))
        );
    }

    #[test]
    fn html_drafts_are_judged_on_their_text_and_answered_in_html() {
        MockHost::new().install();
        let e = draft(
            "<p>Hi Anna,</p><p>Your parcel is on its way.</p><p>Best regards</p>",
            Some("en-GB"),
            "Anna Smith",
        );
        assert_eq!(Tone::handle(e).unwrap(), vec![]);
        let e = draft(
            "<div>Ihre Bestellung ist unterwegs.</div>",
            Some("de-DE"),
            "Anna Schmidt",
        );
        let actions = Tone::handle(e).unwrap();
        assert_eq!(
            actions[0],
            Action::ReplaceDraft(
                "<p>Guten Tag Anna Schmidt,</p><div>Ihre Bestellung ist unterwegs.</div><p>Mit freundlichen Grüßen</p>"
                    .into()
            )
        );
    }

    #[test]
    fn the_agents_language_decides_short_drafts() {
        MockHost::new().install();
        let mut e = draft("OK.", Some("de-DE"), "Anna Schmidt");
        e.agent = Some(Agent {
            id: "a".into(),
            working_language: Some("de".into()),
        });
        let actions = Tone::handle(e).unwrap();
        assert!(
            matches!(&actions[0], Action::ReplaceDraft(t) if t.starts_with("Guten Tag Anna Schmidt,"))
        );
    }
}
