//! The dashboard and the alert rules name only metrics the services export, and every alert
//! has a promtool unit test. A renamed metric breaks these tests instead of silently emptying
//! a panel or disarming an alert.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking"
)]

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

/// Series every scrape has without our code: Prometheus' own `up`, and the process collector
/// that `service_kit::Metrics` registers.
const BUILT_IN: &[&str] = &[
    "up",
    "process_cpu_seconds_total",
    "process_open_fds",
    "process_max_fds",
    "process_virtual_memory_bytes",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
    "process_threads",
];

fn root() -> PathBuf {
    testkit::workspace_root()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every metric name registered in the services' and crates' source (`"postbridge_…"`
/// literals), histograms with their `_bucket`, `_sum` and `_count` series.
fn exported() -> BTreeSet<String> {
    let mut files = Vec::new();
    for top in ["crates", "services"] {
        for member in std::fs::read_dir(root().join(top)).unwrap() {
            rust_files(&member.unwrap().path().join("src"), &mut files);
        }
    }
    let mut names: BTreeSet<String> = BUILT_IN.iter().map(|s| (*s).to_owned()).collect();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("\"postbridge_") {
            let before = &rest[..at];
            let literal = &rest[at + 1..];
            let end = literal
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(literal.len());
            let name = &literal[..end];
            if literal[end..].starts_with('"') {
                names.insert(name.to_owned());
                let opener = before.rfind("::new(").map(|i| &before[..i]);
                if opener.is_some_and(|o| o.ends_with("HistogramOpts")) {
                    for suffix in ["_bucket", "_sum", "_count"] {
                        names.insert(format!("{name}{suffix}"));
                    }
                }
            }
            rest = &literal[end..];
        }
    }
    names
}

/// The metric names a PromQL expression mentions: identifiers starting `postbridge_` or
/// `process_`, and `up` where it is selected.
fn metrics_in(expr: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut ident = String::new();
    let mut chars = expr.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if c == '"' {
            in_string = !in_string;
            continue;
        }
        if in_string {
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            ident.push(c);
            if chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '_')
            {
                continue;
            }
            let next = chars.peek().copied();
            if ident.starts_with("postbridge_")
                || ident.starts_with("process_")
                || (ident == "up" && next == Some('{'))
            {
                found.push(ident.clone());
            }
            ident.clear();
        }
    }
    found
}

fn dashboard_queries() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("deploy/grafana/postbridge.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        if panel["type"] == "row" {
            continue;
        }
        let title = panel["title"].as_str().unwrap().to_owned();
        let targets = panel["targets"].as_array().expect("a panel has queries");
        assert!(!targets.is_empty(), "panel {title} has no query");
        for target in targets {
            queries.push((title.clone(), target["expr"].as_str().unwrap().to_owned()));
        }
    }
    queries
}

#[test]
fn every_dashboard_query_names_metrics_the_services_export() {
    let exported = exported();
    // The source scan itself works: names from each service and from service-kit.
    for known in [
        "postbridge_publish_targets_total",
        "postbridge_token_refreshes_total",
        "postbridge_http_request_duration_seconds_bucket",
        "postbridge_queue_messages",
        "postbridge_dlq_messages",
        "postbridge_db_pool_connections",
        "postbridge_connect_outcomes_total",
        "postbridge_auth_failures_total",
        "postbridge_upload_bytes_bucket",
    ] {
        assert!(exported.contains(known), "{known} not found by the scan");
    }
    let queries = dashboard_queries();
    assert!(queries.len() >= 25, "{} queries", queries.len());
    let mut unknown = Vec::new();
    for (title, expr) in &queries {
        let names = metrics_in(expr);
        assert!(!names.is_empty(), "panel {title}: no metric in `{expr}`");
        for name in names {
            if !exported.contains(&name) {
                unknown.push(format!("panel {title}: {name}"));
            }
        }
    }
    assert!(unknown.is_empty(), "not exported: {unknown:#?}");
}

#[test]
fn the_dashboard_has_the_panels_on_call_needs() {
    let queries = dashboard_queries();
    let all: String = queries.iter().map(|(_, e)| e.as_str()).collect();
    for needed in [
        "postbridge_publish_targets_total",
        "postbridge_publish_dispatch_lag_seconds_bucket",
        "postbridge_publish_duration_seconds_bucket",
        "postbridge_token_refreshes_total",
        "postbridge_token_soonest_expiry_seconds",
        "postbridge_outbox_oldest_age_seconds",
        "postbridge_queue_messages",
        "postbridge_dlq_messages",
        "postbridge_http_request_duration_seconds_count",
        "postbridge_http_request_duration_seconds_bucket",
        "postbridge_db_pool_connections",
        "postbridge_db_pool_max_connections",
    ] {
        assert!(all.contains(needed), "no panel shows {needed}");
    }
}

#[test]
fn alert_rules_name_only_exported_metrics_and_each_alert_has_a_unit_test() {
    let exported = exported();
    let rules =
        std::fs::read_to_string(root().join("deploy/prometheus/postbridge.rules.yml")).unwrap();
    let tests = std::fs::read_to_string(root().join("deploy/prometheus/postbridge.rules.test.yml"))
        .unwrap();
    let unknown: Vec<String> = metrics_in(&rules)
        .into_iter()
        .filter(|name| !exported.contains(name))
        .collect();
    assert!(
        unknown.is_empty(),
        "rules name unexported metrics: {unknown:?}"
    );

    let alerts: Vec<&str> = rules
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- alert: "))
        .collect();
    for required in [
        "PostbridgeOutboxBacklogOld",
        "PostbridgeDeadLetterQueueNotEmpty",
        "PostbridgeTokenRefreshFailuresRising",
        "PostbridgeTokensExpiringUnrefreshed",
        "PostbridgePublishFailureRatioHigh",
        "PostbridgeDispatchLagHigh",
        "PostbridgeServiceNotReady",
    ] {
        assert!(alerts.contains(&required), "no alert {required}");
    }
    for alert in alerts {
        let fired = format!("alertname: {alert}");
        assert!(
            tests.matches(&fired).count() >= 2,
            "{alert} needs a firing and a quiet case in postbridge.rules.test.yml"
        );
    }
}

#[test]
fn metric_names_are_found_in_promql() {
    assert_eq!(
        metrics_in(
            r#"sum by (le) (rate(postbridge_x_bucket{route!~"/postbridge_y"}[5m])) / up{job="a"} and up"#
        ),
        ["postbridge_x_bucket", "up"]
    );
}
