//! Tries to reach the network through WASI: the host links WASI sockets but grants
//! no network, so each attempt is refused. A message reading `udp` opens and binds
//! a UDP socket, one reading `lookup` asks for a name's addresses, any other opens
//! and binds a TCP socket. It reports the refusal as its error. One reading `hoard`
//! keeps asking for network handles, each a resource of the host's, without end.
//! One reading `keep` keeps one past its call and notes how many it has kept: an
//! instance that holds a resource of the host's must not serve another call.
//! One reading `bodies` makes `wasi:http` requests it never sends and writes
//! into their bodies as much as each takes, keeping them, and notes how many
//! bytes the host took: memory of the host's, counted by no limit of the plugin.
use std::sync::atomic::{AtomicU32, Ordering};

use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError};

#[allow(unsafe_code, unreachable_pub, clippy::all)]
mod wasi {
    wit_bindgen::generate!({
        path: "wit",
        world: "probe",
        type_section_suffix: "socket-probe",
        generate_all,
    });
}

use wasi::wasi::http::types as http;
use wasi::wasi::sockets::{
    instance_network, ip_name_lookup, network, tcp_create_socket, udp_create_socket,
};

/// Requests the `bodies` probe makes.
const REQUESTS: usize = 64;
/// Most it writes into one body.
const BODY_BYTES: u64 = 2 << 20;

/// Writes into the bodies of [`REQUESTS`] requests, keeping them; the bytes the
/// host took.
fn hoard_bodies() -> u64 {
    let chunk = vec![0u8; 1 << 20];
    let mut kept = Vec::new();
    let mut taken: u64 = 0;
    for _ in 0..REQUESTS {
        let request = http::OutgoingRequest::new(http::Fields::new());
        let Ok(body) = request.body() else { break };
        let Ok(stream) = body.write() else { break };
        let mut written: u64 = 0;
        while written < BODY_BYTES {
            let room = match stream.check_write() {
                Ok(0) | Err(_) => break,
                Ok(room) => room.min(BODY_BYTES - written).min(chunk.len() as u64),
            };
            let Ok(len) = usize::try_from(room) else {
                break;
            };
            if stream.write(&chunk[..len]).is_err() {
                break;
            }
            written += room;
        }
        taken += written;
        drop(stream);
        drop(body);
        kept.push(request);
    }
    taken
}

pub struct SocketAccess;

/// How many network handles this instance has kept past their calls.
static KEPT: AtomicU32 = AtomicU32::new(0);

/// Any address, port 8080.
const LOCAL: network::IpSocketAddress =
    network::IpSocketAddress::Ipv4(network::Ipv4SocketAddress {
        port: 8080,
        address: (0, 0, 0, 0),
    });

impl Plugin for SocketAccess {
    fn manifest() -> Manifest {
        Manifest::new("socket-access", "0.1.0").handles(EventKind::CustomerMessage)
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        let net = instance_network::instance_network();
        let refused =
            |what: &str, e: network::ErrorCode| PluginError::new(format!("{what} refused: {e:?}"));
        if event.text == "bodies" {
            return Ok(vec![Action::InternalNote(format!(
                "the host took {} bytes",
                hoard_bodies()
            ))]);
        }
        if event.text == "keep" {
            // Never dropped: the host's table holds it after the call returns.
            std::mem::forget(instance_network::instance_network());
            let kept = KEPT.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            return Ok(vec![Action::InternalNote(format!(
                "kept {kept} network handles"
            ))]);
        }
        let done = match event.text.as_str() {
            "udp" => {
                let socket = udp_create_socket::create_udp_socket(network::IpAddressFamily::Ipv4)
                    .map_err(|e| refused("create-udp-socket", e))?;
                socket
                    .start_bind(&net, LOCAL)
                    .map_err(|e| refused("udp bind", e))?;
                "bound a UDP socket on port 8080"
            }
            "hoard" => {
                let mut held = Vec::new();
                loop {
                    held.push(instance_network::instance_network());
                }
            }
            "lookup" => {
                ip_name_lookup::resolve_addresses(&net, "example.com")
                    .map_err(|e| refused("name lookup", e))?;
                "looked up example.com"
            }
            _ => {
                let socket = tcp_create_socket::create_tcp_socket(network::IpAddressFamily::Ipv4)
                    .map_err(|e| refused("create-tcp-socket", e))?;
                socket
                    .start_bind(&net, LOCAL)
                    .map_err(|e| refused("tcp bind", e))?;
                "bound a TCP socket on port 8080"
            }
        };
        Ok(vec![Action::InternalNote(done.into())])
    }
}

crossdesk_sdk::export_plugin!(SocketAccess);
