//! What the plugin and its admin tools share: the settings it declares and the
//! roster it keeps in the tenant's storage. The event path (`plugin`) and the
//! commands (`tools`) both read from here, neither from the other.

use crossdesk_sdk::{PluginError, kv};

use crate::roster::Roster;

/// The kv key of the roster.
pub const ROSTER_KEY: &str = "roster";

/// The settings the plugin declares (`name: type`, checked by the host).
pub const SETTING_KEYS: &[&str] = &[
    // Routing.
    "translation_plugin: string",
    "faq_from: string",
    // Planning (read by the `plan` command; see `crate::tools`).
    "plan_time_zone: string",
    "interval_minutes: one-of(15|30|60)",
    "service_level_percent: int(1..99)",
    "target_seconds: int(0..3600)",
    "aht_seconds: int(1..86400)",
    "max_occupancy_percent: int(1..100)",
    "shrinkage_percent: int(0..95)",
    "min_shift_hours: int(1..24)",
    "max_shift_hours: int(1..24)",
];

/// The roster stored in kv, if one was imported.
pub fn load_roster() -> Result<Option<Roster>, PluginError> {
    let Some(bytes) = kv::get(ROSTER_KEY)? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    let records = serde_json::from_str(&text)
        .map_err(|e| PluginError::new(format!("stored roster is not readable: {e}")))?;
    Roster::from_records(records)
        .map(Some)
        .map_err(|e| PluginError::new(format!("stored roster: {e}")))
}
