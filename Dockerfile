# Crossdesk in a container: the host (`crossdesk`, which is also the webhook bridge)
# and the first-party plugins, built from this source tree; a slim runtime image
# that runs as a non-root user. Build from the repository's root:
#   podman build -t crossdesk .        (or docker build)
# deploy/README.md says how it runs, and how the Kubernetes manifests use it.

# --- build: the host, and the plugins for wasm32 ---------------------------------
FROM docker.io/library/rust:1.95-slim-bookworm AS build
WORKDIR /src
# rustup's own wasm32 target: the plugin build prefers it to Debian's route.
RUN rustup target add wasm32-unknown-unknown
COPY . .
RUN cargo build --locked --release -p crossdesk \
 && cargo run --locked --release -p xtask -- build-plugins --out-dir /out/plugins \
 && mkdir -p /out/bin /out/shipped \
 && cp target/release/crossdesk /out/bin/ \
 && for plugin in translation tone recommend schedule hello-plugin; do \
      cp "/out/plugins/$plugin.wasm" /out/shipped/; \
    done

# --- runtime ---------------------------------------------------------------------
FROM docker.io/library/debian:bookworm-slim
# A fixed uid, so that Kubernetes' runAsNonRoot can check it.
RUN groupadd --system --gid 10001 crossdesk \
 && useradd --system --uid 10001 --gid crossdesk --home-dir /var/lib/crossdesk \
      --no-create-home --shell /usr/sbin/nologin crossdesk \
 && mkdir -p /var/lib/crossdesk /etc/crossdesk \
 && chown crossdesk:crossdesk /var/lib/crossdesk
COPY --from=build /out/bin/crossdesk /usr/local/bin/crossdesk
COPY --from=build /out/shipped/ /usr/share/crossdesk/plugins/
COPY deploy/container/crossdesk.toml /etc/crossdesk/crossdesk.toml
USER 10001:10001
WORKDIR /var/lib/crossdesk
# Event API (gRPC), admin API (gRPC), operations (metrics, probes); the bridge's
# webhooks when run as `crossdesk bridge`.
EXPOSE 50051 50052 9464 8088
ENTRYPOINT ["/usr/local/bin/crossdesk"]
CMD ["serve", "--config", "/etc/crossdesk/crossdesk.toml"]
