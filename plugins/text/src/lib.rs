//! Text analysis for Crossdesk plugins, as a plain library (no plugin, no host):
//! language codes and detection ([`lang`], [`detect`] for short messages), tokenization and BM25 ([`text`]),
//! inquiry topics ([`topic`]), the shared knowledge base's format and ranking
//! ([`kb`]) and HTML as its reader sees it ([`html`]). The first-party plugins use
//! it; a third party's plugin may too.

pub mod detect;
pub mod html;
pub mod kb;
pub mod lang;
pub mod text;
pub mod topic;
