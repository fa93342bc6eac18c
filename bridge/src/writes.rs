//! An event's actions sorted into what a helpdesk can be asked to write: note
//! lines, tags, fields, routing and the public reply. Helpdesk integrations turn
//! this into their REST requests.

use std::collections::BTreeMap;

use super::types::NotePolicy;
use crate::pb;

/// Said in the last note the bridge adds to a ticket.
pub const LAST_NOTE: &str = "Crossdesk adds no more notes to this ticket: it has written \
     as many as the bridge's max_notes_per_ticket allows (the helpdesk caps comments per \
     ticket). Tags, fields, routing and replies still come.";

/// The tag (label) put on tickets a plugin flags for review.
pub const REVIEW_TAG: &str = "crossdesk-review";

/// The tag (label) put on a ticket whose agent's reply was held back: a plugin
/// failed on it (the note says which).
pub const REPLY_HELD_TAG: &str = "crossdesk-reply-held";

/// What an event's actions ask the helpdesk to write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Writes {
    /// Lines of the internal note, in the order of the actions.
    pub notes: Vec<String>,
    /// Tags to add, without duplicates, in order.
    pub tags: Vec<String>,
    /// Fields to set, by name.
    pub fields: BTreeMap<String, String>,
    pub group: Option<String>,
    pub agent: Option<String>,
    /// `low`, `normal`, `high` or `urgent` as a plugin asked (lower case).
    pub priority: Option<String>,
    /// Routing the helpdesk cannot apply, told to the agent in the note.
    pub unrouted: Vec<String>,
    /// The agent's reply after the pipeline, or the last auto-reply.
    reply: Option<String>,
}

impl Writes {
    /// Sorts `actions`; `reply` is an agent's reply as the pipeline left it (it wins
    /// over auto-replies).
    pub fn from_actions(actions: &[pb::Action], reply: Option<&str>) -> Writes {
        use pb::action::Kind;
        let mut writes = Writes::default();
        let mut auto_reply = None;
        for action in actions {
            match &action.kind {
                Some(Kind::InternalNote(text)) if !text.trim().is_empty() => {
                    writes.notes.push(text.trim().to_owned());
                }
                Some(Kind::AddTags(t)) => {
                    for tag in &t.tags {
                        writes.add_tag(tag);
                    }
                }
                Some(Kind::SetFields(f)) => {
                    for (key, value) in &f.fields {
                        writes.fields.insert(key.clone(), value.clone());
                    }
                }
                Some(Kind::Route(r)) => {
                    let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
                    writes.group = some(&r.group).or(writes.group.take());
                    writes.agent = some(&r.agent_id).or(writes.agent.take());
                    writes.priority = some(&r.priority.to_ascii_lowercase()).or(writes.priority);
                    if let Some(reason) = some(&r.reason) {
                        writes.notes.push(format!("Routing: {reason}"));
                    }
                }
                Some(Kind::FlagForReview(flag)) => {
                    writes.add_tag(REVIEW_TAG);
                    let category = flag.category.trim();
                    let reason = flag.reason.trim();
                    writes
                        .notes
                        .push(match (category.is_empty(), reason.is_empty()) {
                            (false, false) => format!("Flagged for review ({category}): {reason}"),
                            (false, true) => format!("Flagged for review ({category})"),
                            (true, false) => format!("Flagged for review: {reason}"),
                            (true, true) => "Flagged for review".to_owned(),
                        });
                }
                Some(Kind::Recommend(recs)) => {
                    for item in &recs.items {
                        let mut line = format!("Recommended {}: {}", item.kind, item.title);
                        if !item.id.is_empty() {
                            line.push_str(&format!(" ({})", item.id));
                        }
                        if !item.reason.is_empty() {
                            line.push_str(&format!(" — {}", item.reason));
                        }
                        writes.notes.push(line);
                    }
                }
                // The last plugin in the pipeline has the last word.
                Some(Kind::AutoReply(text)) if !text.trim().is_empty() => {
                    auto_reply = Some(text.clone());
                }
                // ReplaceDraft: the caller passes the final draft as `reply`.
                Some(Kind::ReplaceDraft(_) | Kind::InternalNote(_) | Kind::AutoReply(_)) | None => {
                }
            }
        }
        writes.reply = reply
            .filter(|r| !r.trim().is_empty())
            .map(str::to_owned)
            .or(auto_reply);
        writes
    }

    fn add_tag(&mut self, tag: &str) {
        add_tag(&mut self.tags, tag);
    }

    /// Moves the routing into the note, for a helpdesk that cannot apply it.
    pub fn unroute_all(&mut self) {
        if let Some(group) = self.group.take() {
            self.unrouted.push(format!("group {group}"));
        }
        if let Some(agent) = self.agent.take() {
            self.unrouted.push(format!("agent {agent}"));
        }
        if let Some(priority) = self.priority.take() {
            self.unrouted.push(format!("priority {priority}"));
        }
    }

    /// The internal note: the note lines, then the routing that could not be
    /// applied, then the marker's line (how the bridge recognises its own notes);
    /// `None` when there is nothing to say or the ticket gets no more notes.
    pub fn note_text(&self, marker: Option<&str>, policy: NotePolicy) -> Option<String> {
        let mut lines = self.notes.clone();
        if !self.unrouted.is_empty() {
            lines.push(format!("Suggested routing: {}", self.unrouted.join(", ")));
        }
        note_body(lines, marker, policy)
    }

    /// The text to post as the public reply.
    pub fn public_reply(&self) -> Option<String> {
        self.reply.clone()
    }
}

/// Adds `tag` (trimmed) to `tags` unless it is empty or already there.
pub fn add_tag(tags: &mut Vec<String>, tag: &str) {
    let tag = tag.trim();
    if !tag.is_empty() && !tags.iter().any(|t| t == tag) {
        tags.push(tag.to_owned());
    }
}

/// A note of `lines` as the bridge writes it: under `policy`, closed by the last
/// note's notice and the marker's line (how the bridge recognises its own notes).
pub fn note_body(
    mut lines: Vec<String>,
    marker: Option<&str>,
    policy: NotePolicy,
) -> Option<String> {
    if lines.is_empty() || policy == NotePolicy::Skip {
        return None;
    }
    if policy == NotePolicy::Last {
        lines.push(LAST_NOTE.to_owned());
    }
    if let Some(marker) = marker.filter(|m| !m.is_empty()) {
        lines.push(marker.to_owned());
    }
    Some(lines.join("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb::action::Kind;

    fn action(kind: Kind) -> pb::Action {
        pb::Action {
            plugin: "p".into(),
            kind: Some(kind),
        }
    }

    #[test]
    fn actions_are_sorted_into_writes_in_order() {
        let actions = [
            action(Kind::InternalNote("Translation: hello".into())),
            action(Kind::AddTags(pb::Tags {
                tags: vec!["ja".into(), " ".into(), "ja".into()],
            })),
            action(Kind::FlagForReview(pb::ReviewFlag {
                category: "legal".into(),
                reason: "mentions a lawyer".into(),
            })),
            action(Kind::Route(pb::Routing {
                group: "7".into(),
                agent_id: String::new(),
                priority: "HIGH".into(),
                reason: "Japanese speaker on shift".into(),
            })),
            action(Kind::AutoReply("We are closed".into())),
        ];
        let writes = Writes::from_actions(&actions, None);
        assert_eq!(writes.tags, ["ja", REVIEW_TAG]);
        assert_eq!(writes.group.as_deref(), Some("7"));
        assert_eq!(writes.agent, None);
        assert_eq!(writes.priority.as_deref(), Some("high"));
        assert_eq!(
            writes.notes,
            [
                "Translation: hello",
                "Flagged for review (legal): mentions a lawyer",
                "Routing: Japanese speaker on shift"
            ]
        );
        assert_eq!(writes.public_reply().as_deref(), Some("We are closed"));
        // An agent's reply wins over auto-replies.
        let with_reply = Writes::from_actions(&actions, Some("Here is your tracking number"));
        assert_eq!(
            with_reply.public_reply().as_deref(),
            Some("Here is your tracking number")
        );
    }

    #[test]
    fn the_note_carries_unapplied_routing_and_the_marker() {
        let mut writes = Writes::from_actions(
            &[action(Kind::Route(pb::Routing {
                group: "tier-2".into(),
                agent_id: "a-9".into(),
                ..Default::default()
            }))],
            None,
        );
        assert_eq!(writes.note_text(Some("— bot"), NotePolicy::Write), None);
        writes.unroute_all();
        assert_eq!(
            writes
                .note_text(Some("— bot"), NotePolicy::Write)
                .as_deref(),
            Some("Suggested routing: group tier-2, agent a-9\n\n— bot")
        );
        assert_eq!(
            Writes::default().note_text(Some("— bot"), NotePolicy::Write),
            None
        );
        // A ticket's last note says so; after it, none.
        let last = writes
            .note_text(Some("— bot"), NotePolicy::Last)
            .expect("a note");
        assert!(last.ends_with(&format!("{LAST_NOTE}\n\n— bot")), "{last}");
        assert_eq!(writes.note_text(Some("— bot"), NotePolicy::Skip), None);
    }
}
