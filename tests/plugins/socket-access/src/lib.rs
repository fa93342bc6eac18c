//! Tries to open a listening TCP socket through WASI: the host links WASI sockets
//! but grants no network, so the bind is refused. It reports the refusal.
//! (A connect is refused by the same check, but only when the guest waits for it
//! with `finish-connect`, which needs the whole of `wasi:io`; bind answers at once.)
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError};

#[allow(unsafe_code, unreachable_pub, clippy::all)]
mod wasi {
    wit_bindgen::generate!({ path: "wit", world: "probe", type_section_suffix: "socket-probe" });
}

use wasi::wasi::sockets::{instance_network, network, tcp_create_socket};

pub struct SocketAccess;

impl Plugin for SocketAccess {
    fn manifest() -> Manifest {
        Manifest::new("socket-access", "0.1.0").handles(EventKind::CustomerMessage)
    }

    fn handle(_event: Event) -> Result<Vec<Action>, PluginError> {
        let net = instance_network::instance_network();
        let socket = tcp_create_socket::create_tcp_socket(network::IpAddressFamily::Ipv4)
            .map_err(|e| PluginError::new(format!("create-tcp-socket refused: {e:?}")))?;
        let local = network::IpSocketAddress::Ipv4(network::Ipv4SocketAddress {
            port: 8080,
            address: (0, 0, 0, 0),
        });
        socket
            .start_bind(&net, local)
            .map_err(|e| PluginError::new(format!("bind refused: {e:?}")))?;
        Ok(vec![Action::InternalNote(
            "bound a TCP socket on port 8080".into(),
        )])
    }
}

crossdesk_sdk::export_plugin!(SocketAccess);
