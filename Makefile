# Crossdesk's entry points. `make demo` and `make test` work on a fresh machine:
# they install what is missing, build the plugins from source, then run.

CARGO ?= cargo
PLUGIN_DIR := target/plugins
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
# What builds the Rust plugins. `make test` passes the xtask its own workspace
# build made: built alone, xtask resolves its dependencies' features apart from
# the workspace's, and half a minute of compiling is done twice.
XTASK ?= $(CARGO) run --quiet -p xtask --

.PHONY: all toolchain engines plugins build demo test bench soak fuzz fmt lint deny ci clean-plugins deploy-check scale detection

all: build plugins

# The wasm32 toolchain for plugins (rustup's target, or Debian's rust-web route).
toolchain:
	@bash scripts/wasm-toolchain.sh

# Servers the demo and the tests run on loopback, from Debian's packages (installed
# only when missing): Apertium APy with its language pairs, and PostgreSQL.
engines:
	@bash scripts/apertium.sh install
	@bash scripts/postgres.sh install

# Every plugin crate of the workspace (plugins/, examples/, tests/plugins/) into a
# component in $(PLUGIN_DIR), and the JavaScript ones (examples/js-plugin,
# tests/plugins-js/) with componentize-js.
plugins: toolchain
	$(XTASK) build-plugins --out-dir $(PLUGIN_DIR)
	@bash scripts/js-plugins.sh $(PLUGIN_DIR)

build:
	$(CARGO) build -p crossdesk

# Starts the sidecar on its embedded defaults, sends the sample events with the
# real gRPC client, prints the responses, stops the sidecar.
demo: plugins build engines
	@bash scripts/demo.sh

# The binary and xtask too (tests that kill and restart the sidecar run it as a
# process; xtask then builds the plugins), built with the test targets in one
# resolution of features, so that nothing is compiled twice. Then no secret of
# the suite may appear in what it logged.
test: toolchain engines
	$(CARGO) build --workspace --bins --tests
	@$(MAKE) --no-print-directory plugins XTASK=$(TARGET_DIR)/debug/xtask
	@# The SDK as plugin authors get it: packaged alone, its WIT inside. The
	@# authoring test builds a plugin, natively and for wasm32, with that package.
	$(CARGO) package -p crossdesk-sdk --allow-dirty --no-verify --quiet
	rm -rf target/test-logs
	$(CARGO) test --workspace -- --skip plugin_authoring
	@# Plugin authoring builds whole projects (cargo, npm, componentize-js): alone,
	@# so that its load does not push timing-sensitive tests past their deadlines.
	@# (--workspace: features resolve as for the run above, so nothing rebuilds.)
	$(CARGO) test --workspace --test end_to_end plugin_authoring
	@bash scripts/leak-check.sh
	@bash scripts/deploy-check.sh
	@# The JavaScript SDK: its own tests (a component build among them), and its
	@# types against the WIT.
	cd sdk/js && npm test --silent && npm run --silent check-types

# Writes target/bench-results.json and prints the figures recorded in BENCHMARKS.md.
bench: plugins engines
	@bash scripts/js-plugins.sh $(PLUGIN_DIR) sidecar/benches/plugins-js
	$(CARGO) bench -p crossdesk-sidecar --bench sidecar
	$(CARGO) run --release -p schedule --example bench

# The soak with faults (BENCHMARKS.md, "Soak"): SOAK_MINUTES of load (default 20)
# on the release build while a plugin loops, an engine stalls, PostgreSQL
# restarts, the helpdesk fails and the sidecar is SIGKILLed; writes
# target/soak/report.json and target/soak/soak.svg, and fails when a check does.
# The binary and the harness are built in one resolution of features, so that
# nothing is compiled twice.
SOAK_MINUTES ?= 20
soak: plugins engines
	$(CARGO) build --release -p crossdesk -p crossdesk-integration-tests --bin crossdesk --example soak
	SOAK_MINUTES=$(SOAK_MINUTES) $(or $(CARGO_TARGET_DIR),target)/release/examples/soak

# The scale test (BENCHMARKS.md, "Replicas behind a load balancer"): 1, 2 and 3
# release-built replicas sharing PostgreSQL behind HAProxy, SCALE_SECONDS (default
# 10) of redelivered, same-customer traffic each; writes target/scale/report.json
# and fails when an event ran twice or an update was lost.
scale: plugins engines
	@bash scripts/haproxy.sh
	$(CARGO) build --release -p crossdesk -p crossdesk-integration-tests --bin crossdesk --example scale
	$(or $(CARGO_TARGET_DIR),target)/release/examples/scale

# Language detection of short messages through the sidecar (BENCHMARKS.md,
# "Language detection"), with the real APy and no locale: Debian's translation
# catalogs' held-out half (DETECTION_PER_LANGUAGE strings per catalog half, default
# 30) and the hand-written chat messages; whatlang alone beside it.
DETECTION_PER_LANGUAGE ?= 30
detection: plugins engines
	python3 scripts/detection-set.py $(or $(CARGO_TARGET_DIR),target)/detection $(DETECTION_PER_LANGUAGE)
	$(CARGO) build --release -p crossdesk-integration-tests --example detection
	$(or $(CARGO_TARGET_DIR),target)/release/examples/detection \
	  $(or $(CARGO_TARGET_DIR),target)/detection/test.tsv tests/examples/detection/chat-messages.tsv

# Each fuzz target (fuzz/fuzz_targets/) for FUZZ_SECONDS (default 60), one after
# the other, from its seeds; prints executions and coverage per target. Needs a
# nightly toolchain; installs cargo-fuzz when missing. Crashes are replayed by
# `make test` once their input is in fuzz/regressions/<target>/.
FUZZ_SECONDS ?= 60

fuzz:
	@bash scripts/cargo-fuzz.sh
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# cargo-deny with deny.toml: licenses, banned and duplicate crates, sources (only
# crates.io); advisories too when a copy of the RustSec database is on the machine.
# Installs the pinned cargo-deny when it is missing.
deny:
	@bash scripts/cargo-deny.sh

# The Dockerfile (hadolint) and the Kubernetes manifests (yamllint, the Kubernetes
# schemas), offline; CROSSDESK_BUILD_IMAGE=1 also builds the image.
deploy-check:
	@bash scripts/deploy-check.sh

ci:
	bash .ci/run

clean-plugins:
	rm -rf $(PLUGIN_DIR)
