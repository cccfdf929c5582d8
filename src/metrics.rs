//! Prometheus metrics: requests by route and status, latency, connection pool, webhook backlog.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::db::DbPool;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    webhook_backlog: IntGauge,
    password_checks: IntCounter,
    checkouts: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("learnweek".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ]),
            &["method", "route"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database pool: max, open, idle connections and waiting requests",
            ),
            &["state"],
        )?;
        let webhook_backlog = IntGauge::new(
            "webhook_backlog",
            "Changes waiting to be delivered to active webhooks, as last counted by this \
             process's delivery worker (counted up to 10000 per webhook and 100000 in all)",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        let password_checks = IntCounter::new(
            "password_checks_total",
            "Passwords checked at login (each one an argon2 hash)",
        )?;
        let checkouts = IntCounterVec::new(
            Opts::new(
                "db_checkouts_total",
                "Connections handed to requests and tasks, by pool (primary or replica)",
            ),
            &["pool"],
        )?;
        registry.register(Box::new(checkouts.clone()))?;
        registry.register(Box::new(webhook_backlog.clone()))?;
        registry.register(Box::new(password_checks.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            pool,
            webhook_backlog,
            password_checks,
            checkouts,
        })
    }

    /// One answered request.
    pub fn observe(&self, method: &str, route: &str, status: &str, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, status])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    pub fn password_checked(&self) {
        self.password_checks.inc();
    }

    /// A connection taken from `pool` (`primary` or `replica`).
    pub fn checked_out(&self, pool: &str) {
        self.checkouts.with_label_values(&[pool]).inc();
    }

    /// Connections taken from `pool` so far.
    pub fn checkouts(&self, pool: &str) -> u64 {
        self.checkouts.with_label_values(&[pool]).get()
    }

    pub fn password_checks(&self) -> u64 {
        self.password_checks.get()
    }

    /// The webhook backlog as the delivery worker last counted it. Scrapes only read it: a
    /// count per scrape would let whoever polls `/metrics` set the database's load.
    pub fn set_webhook_backlog(&self, n: i64) {
        self.webhook_backlog.set(n);
    }

    /// The text exposition, with the gauges read now (none of them from the database).
    pub fn render<'a>(&self, pools: impl Iterator<Item = &'a DbPool>) -> String {
        let mut totals = [("max", 0), ("open", 0), ("idle", 0), ("waiting", 0)];
        for status in pools.map(DbPool::status) {
            totals[0].1 += status.max_size;
            totals[1].1 += status.size;
            totals[2].1 += status.available;
            totals[3].1 += status.waiting;
        }
        for (name, value) in totals {
            self.pool
                .with_label_values(&[name])
                .set(i64::try_from(value).unwrap_or(i64::MAX));
        }
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}
