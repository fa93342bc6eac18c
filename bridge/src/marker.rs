//! The mark that closes every note the bridge writes, by which it knows the note
//! when the helpdesk sends it back as a webhook (loop prevention where the
//! helpdesk does not say who wrote a comment, or the bridge's user id is not
//! configured).
//!
//! The mark is the endpoint's visible `marker` text followed by a tag: an
//! HMAC-SHA256 of the ticket (account and id) under a key derived from the
//! endpoint's API token. Only the tag is recognised, so a customer who types
//! the marker text is heard like anyone else, and nobody without the token can
//! make a tag. The tag covers the ticket rather than the note's text because
//! helpdesks hand a note back re-rendered (Freshdesk as HTML, others with
//! whitespace changed): a tag over the text would stop matching, and the
//! bridge's note would run through the plugins again. A tag is only seen in
//! internal notes and only counts on its own ticket.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Hex digits of the tag (80 bits): a guess needs a delivery from the helpdesk.
const TAG_HEX: usize = 20;

/// What separates the derived key from other uses of the API token.
const KEY_CONTEXT: &[u8] = b"crossdesk-bridge note tag v1";

/// Hex digits of a batch's mark: tells a batch's note from the ticket's others.
const BATCH_HEX: usize = 8;
const BATCH_CONTEXT: &[u8] = b"batch";

/// An endpoint's mark: the visible text and the key of its tags.
#[derive(Clone, PartialEq, Eq)]
pub struct Marker {
    text: String,
    key: [u8; 32],
}

impl std::fmt::Debug for Marker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Marker({:?}, <key>)", self.text)
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes a key of any length; the fallback is never taken.
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

impl Marker {
    /// The mark of an endpoint whose notes end with `text`, keyed by its API token
    /// (the same on every replica of the bridge and across restarts). An empty
    /// `text` marks nothing: only the author id tells the bridge's notes apart.
    pub fn new(text: impl Into<String>, api_token: &str) -> Marker {
        Marker {
            text: text.into(),
            key: hmac(api_token.trim().as_bytes(), &[KEY_CONTEXT]),
        }
    }

    /// The visible text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The line that closes a note on this ticket, written back by `batch` (when
    /// known); `None` when there is no mark.
    pub fn line(&self, account: &str, ticket: &str, batch: Option<&str>) -> Option<String> {
        let mark = self.batch_mark(account, ticket, batch)?;
        Some(format!("{} [{mark}]", self.text))
    }

    /// What in a note tells that `batch` wrote it on this ticket: the ticket's tag,
    /// followed by one of the batch (its lead's delivery key) when known. A worker
    /// that takes over an interrupted write-back looks for it among the ticket's
    /// recent comments to learn whether the note went through.
    pub fn batch_mark(&self, account: &str, ticket: &str, batch: Option<&str>) -> Option<String> {
        if self.text.is_empty() {
            return None;
        }
        let tag = self.tag(account, ticket);
        Some(match batch {
            None => tag,
            Some(batch) => {
                let mut of_batch = hex::encode(hmac(&self.key, &[BATCH_CONTEXT, batch.as_bytes()]));
                of_batch.truncate(BATCH_HEX);
                format!("{tag}-{of_batch}")
            }
        })
    }

    /// Whether `text` carries the tag of this ticket: a note the bridge wrote there.
    pub fn is_on(&self, text: &str, account: &str, ticket: &str) -> bool {
        !self.text.is_empty() && text.contains(&self.tag(account, ticket))
    }

    fn tag(&self, account: &str, ticket: &str) -> String {
        // Length-prefixed, so that no two (account, ticket) pairs sign the same bytes.
        let len = |s: &str| u64::try_from(s.len()).unwrap_or(u64::MAX).to_be_bytes();
        let digest = hmac(
            &self.key,
            &[
                &len(account),
                account.as_bytes(),
                &len(ticket),
                ticket.as_bytes(),
            ],
        );
        let mut tag = hex::encode(digest);
        tag.truncate(TAG_HEX);
        tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_tag_of_the_ticket_under_the_endpoints_token_counts() {
        let marker = Marker::new("— via Crossdesk", "api-token");
        let line = marker.line("", "5158", None).expect("a line");
        assert!(line.starts_with("— via Crossdesk ["), "{line}");
        let note = format!("Translation: hello\n\n{line}");
        assert!(marker.is_on(&note, "", "5158"));
        // Re-rendered by the helpdesk (HTML, other spacing): still ours.
        let html = note.replace("\n\n", "<br><br>").replace('—', "&mdash;");
        assert!(marker.is_on(&html, "", "5158"));
        // The visible text alone, typed by a customer: not ours.
        assert!(!marker.is_on("I saw this — via Crossdesk", "", "5158"));
        // The tag of another ticket, account or token: not ours.
        assert!(!marker.is_on(&note, "", "5159"));
        assert!(!marker.is_on(&note, "7", "5158"));
        assert!(!Marker::new("— via Crossdesk", "other-token").is_on(&note, "", "5158"));
        // The account and ticket are kept apart: ("1", "23") is not ("12", "3").
        let tagged = marker.line("1", "23", None).expect("a line");
        assert!(!marker.is_on(&tagged, "12", "3"));
        // No text, no mark.
        let none = Marker::new("", "api-token");
        assert_eq!(none.line("", "5158", None), None);
        assert!(!none.is_on(&note, "", "5158"));
        assert!(!format!("{marker:?}").contains("api-token"));
    }

    #[test]
    fn a_batchs_note_is_told_from_the_tickets_other_notes() {
        let marker = Marker::new("— via Crossdesk", "api-token");
        let line = marker
            .line("", "5158", Some("zendesk:comment:1"))
            .expect("a line");
        // Still the bridge's note on that ticket.
        assert!(marker.is_on(&line, "", "5158"));
        let mark = |batch| marker.batch_mark("", "5158", Some(batch)).expect("a mark");
        assert!(line.contains(&mark("zendesk:comment:1")));
        assert!(!line.contains(&mark("zendesk:comment:2")));
        // Another ticket's note of the same batch key is not this one.
        let elsewhere = marker
            .line("", "5159", Some("zendesk:comment:1"))
            .expect("a line");
        assert!(!elsewhere.contains(&mark("zendesk:comment:1")));
    }
}
