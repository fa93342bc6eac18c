//! The names the plugin contract gives channels (`email`, `web-chat`, ...), and
//! back: the one vocabulary of channels for plugins, the bridge's mappings and the
//! contact history.

use crate::pb;

/// The channel as the contract names it: "email", "web-chat", ... or the custom name.
pub fn channel_name(event: &pb::Event) -> String {
    match event.channel() {
        pb::Channel::Custom => event.custom_channel.clone(),
        channel => contract_name(channel).unwrap_or_default().to_owned(),
    }
}

/// The contract's name of a channel; `None` for the unspecified and custom ones.
fn contract_name(channel: pb::Channel) -> Option<&'static str> {
    use pb::Channel as C;
    Some(match channel {
        C::Unspecified | C::Custom => return None,
        C::Email => "email",
        C::WebChat => "web-chat",
        C::Whatsapp => "whatsapp",
        C::Facebook => "facebook",
        C::Phone => "phone",
        C::Sms => "sms",
        C::Api => "api",
    })
}

/// The channel the contract names `name` ("web-chat" → web chat); `None` when it
/// names none (a custom channel).
pub fn channel_by_name(name: &str) -> Option<pb::Channel> {
    // The named channels are numbered below CHANNEL_CUSTOM (100).
    (1..100)
        .filter_map(|n| pb::Channel::try_from(n).ok())
        .find(|&channel| contract_name(channel) == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_go_both_ways() {
        let names = [
            "email", "web-chat", "whatsapp", "facebook", "phone", "sms", "api",
        ];
        for name in names {
            let channel = channel_by_name(name).unwrap_or_else(|| panic!("{name}"));
            let event = pb::Event {
                channel: channel as i32,
                ..Default::default()
            };
            assert_eq!(channel_name(&event), name);
        }
        for other in ["", "custom", "unspecified", "line", "Email"] {
            assert_eq!(channel_by_name(other), None, "{other}");
        }
        let custom = pb::Event {
            channel: pb::Channel::Custom as i32,
            custom_channel: "line".into(),
            ..Default::default()
        };
        assert_eq!(channel_name(&custom), "line");
    }
}
