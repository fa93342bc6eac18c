//! One plugin call through the runtime, fresh and warm, and what warm instances
//! hold in memory.
//!
//! - Per call, for the Rust no-op plugin, the JavaScript no-op (`plugins-js/`)
//!   and the JavaScript example: a fresh instance with wasmtime's default
//!   on-demand allocator (the baseline), a fresh instance with the sidecar's
//!   pooling allocator (`isolation = "event"`), and a warm instance
//!   (`isolation = "tenant"`, the default). Median of 100-call batches after a
//!   warm-up.
//! - Memory at 1,000 tenants: each tenant's grant of the no-op plugin called once,
//!   so that 1,000 warm instances wait; the linear memory they hold (the runtime's
//!   count) and the growth of the process's resident set.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use crossdesk_sidecar::config::Limits;
use crossdesk_sidecar::runtime::{Allocator, Grant, Isolation, Runtime, Sharing};

use super::{Figure, event, figure, plugin};

/// Median time of one call in µs, with a fresh instance per call or a warm one.
async fn per_call(
    runtime: &Runtime,
    component: &str,
    isolation: Isolation,
    calls: usize,
) -> Result<f64> {
    let loaded = runtime.load(&plugin(component)?).await?;
    let grant = Arc::new(Grant {
        isolation,
        ..Grant::nothing("bench", component, Limits::default())
    });
    let event = Arc::new(crossdesk_sidecar::runtime::plugin_event(&event(1)));
    let call = || async {
        runtime
            .call(&loaded, &grant, &event)
            .await
            .map_err(|f| anyhow::anyhow!("{component}: {}", f.message))
    };
    for _ in 0..200 {
        call().await?;
    }
    let mut batches = Vec::new();
    for _ in 0..(calls / 100).max(5) {
        let started = Instant::now();
        for _ in 0..100 {
            call().await?;
        }
        batches.push(started.elapsed().as_secs_f64() * 1e6 / 100.0);
    }
    batches.sort_by(f64::total_cmp);
    Ok(batches[batches.len() / 2])
}

fn runtime(data_dir: &Path, allocator: Allocator, sharing: Sharing) -> Result<Runtime> {
    let compiled = data_dir.join("compiled");
    let limits = Limits::default();
    Ok(Runtime::build(&limits, 16, &compiled, allocator, sharing)?)
}

/// Fresh and warm calls of the no-op plugin and the JavaScript example.
pub(crate) async fn figures(
    data_dir: &Path,
    calls: usize,
    figures: &mut Vec<Figure>,
) -> Result<()> {
    let pooling = runtime(data_dir, Allocator::Pooling, Sharing::default())?;
    let on_demand = runtime(data_dir, Allocator::OnDemand, Sharing::default())?;
    for (component, label, calls) in [
        ("plugin-noop", "Rust no-op", calls),
        // A JavaScript instance starts a whole engine: fewer rounds.
        ("plugin-js-noop", "JavaScript no-op", calls / 10),
        ("js-plugin", "JavaScript example", calls / 10),
    ] {
        let baseline = per_call(&on_demand, component, Isolation::Event, calls).await?;
        let fresh = per_call(&pooling, component, Isolation::Event, calls).await?;
        let warm = per_call(&pooling, component, Isolation::Tenant, calls).await?;
        figures.push(figure(
            &format!("call, {label}, fresh, wasmtime default allocator (baseline)"),
            baseline,
            "us",
            None,
        ));
        figures.push(figure(
            &format!("call, {label}, fresh instance (isolation = event)"),
            fresh,
            "us",
            Some(baseline),
        ));
        figures.push(figure(
            &format!("call, {label}, warm instance (isolation = tenant)"),
            warm,
            "us",
            Some(baseline),
        ));
    }
    Ok(())
}

/// The process's resident set, from `/proc/self/status`.
fn resident_bytes() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/self/status"))?;
    Ok(kib * 1024)
}

/// Linear memory and resident memory held by 1,000 tenants' warm instances.
pub(crate) async fn memory_figures(data_dir: &Path, figures: &mut Vec<Figure>) -> Result<()> {
    const TENANTS: usize = 1000;
    // Room for all of them: by default, waiting instances may hold 128 MiB of
    // linear memory, about 115 no-op instances (each has 1.1 MiB, mostly untouched).
    let mut sharing = Sharing::default();
    sharing.warm.memory_budget_bytes = 4 << 30;
    sharing.warm.max_idle_memory_bytes = 2 << 30;
    let runtime = runtime(data_dir, Allocator::Pooling, sharing)?;
    let loaded = runtime.load(&plugin("plugin-noop")?).await?;
    let event = Arc::new(crossdesk_sidecar::runtime::plugin_event(&event(1)));
    let grants: Vec<Arc<Grant>> = (0..TENANTS)
        .map(|t| {
            let tenant = format!("t{t:04}");
            Arc::new(Grant::nothing(&tenant, "noop", Limits::default()))
        })
        .collect();
    let before = resident_bytes()?;
    for grant in &grants {
        runtime
            .call(&loaded, grant, &event)
            .await
            .map_err(|f| anyhow::anyhow!(f.message))?;
    }
    let after = resident_bytes()?;
    let (waiting, linear) = runtime.warm_instances();
    anyhow::ensure!(
        waiting == TENANTS,
        "{waiting} warm instances wait, not {TENANTS}"
    );
    figures.push(figure(
        "warm instances at 1,000 tenants (no-op): linear memory held",
        linear as f64 / (1 << 20) as f64,
        "MiB",
        None,
    ));
    figures.push(figure(
        "warm instances at 1,000 tenants (no-op): resident set growth",
        after.saturating_sub(before) as f64 / (1 << 20) as f64,
        "MiB",
        None,
    ));
    drop(grants);
    anyhow::ensure!(
        runtime.warm_instances().0 == 0,
        "dropping the grants retires their instances"
    );
    Ok(())
}
