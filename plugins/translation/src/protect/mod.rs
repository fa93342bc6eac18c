//! Keeping what must not be translated byte-identical.
//!
//! A message is scanned for *spans*: URLs, e-mail addresses, order numbers and
//! codes, `{{macros}}`, `@mentions`, code, numbers with units, HTML tags and
//! entities, emoji and glossary terms. The rest is cut into *units* at line breaks
//! and block-level HTML tags (so that no engine moves a word from one line or
//! paragraph into another); each unit is translated as one piece of markup in which
//! every span is an empty element `<xN/>` and the text is escaped (`&amp;`, `&lt;`,
//! `&gt;`).
//!
//! Why that form: Apertium APy reads its input as HTML by default, and its HTML
//! deformatter turns an unknown empty element into a "superblank" that the
//! pipeline copies verbatim and never translates; DeepL keeps XML tags with
//! `tag_handling=xml` and LibreTranslate keeps HTML tags with `format=html`. The
//! engine sees a whole sentence, not fragments, so the translation stays fluent.
//!
//! After translation every unit is checked: each of its placeholders must come back
//! exactly once. If one is missing, duplicated or unknown, that unit is translated
//! again *segment by segment* — only the text between spans, as plain text — and
//! rebuilt around the spans in their original order. Either way the spans are put
//! back from the original text, never from the engine's output; a forced glossary
//! term is put back as its target term.
//!
//! `scan` finds the spans, `document` cuts a message into units, has them
//! translated and puts the spans back; `markup` is the escaping and the
//! placeholders both sides share.

mod document;
mod markup;
mod scan;

pub use document::{Document, Method};
pub use markup::{escape, unescape};
pub use scan::{Kind, Span, find_spans, prose};
