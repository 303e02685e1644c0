//! `kulanz serve`: run the service; `--demo` seeds demo data and prints a key and requests.

use crate::startup::{shutdown_signal, Application};
use crate::telemetry::{self, LogFormat};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KULANZ_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub data: super::DataDir,
    /// Folder of policy files (`*.json`); every valid one is stored as a version.
    #[arg(long, env = "KULANZ_POLICY_DIR", default_value = "./policies")]
    pub policy_dir: PathBuf,
    /// Seed demo customers into an empty store and print a full-scope key and example requests.
    #[arg(long)]
    pub demo: bool,
    /// Reload the policy folder when a file changes (same checks as an upload; a bad file
    /// is refused and the running version stays).
    #[arg(long, env = "KULANZ_WATCH_POLICIES", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub watch_policies: bool,
    /// How often the policy folder is checked, in milliseconds.
    #[arg(long, env = "KULANZ_WATCH_INTERVAL_MS", default_value_t = 2000)]
    pub watch_interval_ms: u64,
    /// `strict`: every 2xx write is flushed to disk first (group commit). `relaxed`:
    /// acknowledged once applied; sled flushes within ~500 ms, so a crash can lose that.
    #[arg(long, env = "KULANZ_DURABILITY", value_enum, default_value = "strict")]
    pub durability: crate::store::Durability,
    /// Requests per second allowed per API key (0: no limit); above it, 429 with Retry-After.
    #[arg(long, env = "KULANZ_RATE_LIMIT_PER_SEC", default_value_t = 200)]
    pub rate_limit_per_sec: u32,
    /// Requests a key may send at once above its rate.
    #[arg(long, env = "KULANZ_RATE_LIMIT_BURST", default_value_t = 400)]
    pub rate_limit_burst: u32,
    /// Longest a request may take, in seconds (bulk import and backtest are exempt).
    #[arg(long, env = "KULANZ_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Connections served at once (more wait in the listen backlog); kept below the
    /// open-file limit.
    #[arg(long, env = "KULANZ_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Seconds a client may take to send a request's headers; also how long a kept-alive
    /// connection may sit idle between requests.
    #[arg(long, env = "KULANZ_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// How long an `Idempotency-Key` is remembered, in hours.
    #[arg(long, env = "KULANZ_IDEMPOTENCY_WINDOW_HOURS", default_value_t = 24)]
    pub idempotency_window_hours: u64,
    /// At start, when customers were erased since the last compaction, rewrite the store's
    /// files first so the erased records are gone from the disk (docs/operations.md).
    #[arg(long, env = "KULANZ_COMPACT_ON_START", default_value_t = true, action = clap::ArgAction::Set)]
    pub compact_on_start: bool,
    /// Log format.
    #[arg(long, env = "KULANZ_LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    /// Signing secret of the Zendesk webhook; unset switches `/v1/webhooks/zendesk` off.
    #[arg(long, env = "KULANZ_ZENDESK_WEBHOOK_SECRET", hide_env_values = true)]
    pub zendesk_webhook_secret: Option<String>,
    /// Signing secret of the generic webhook; unset switches `/v1/webhooks/generic` off.
    #[arg(long, env = "KULANZ_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// The highest agent role a Zendesk webhook delivery may claim (e.g. `agent`); a
    /// higher claim is refused with `role_not_allowed`. Unset: the desk's claim is trusted.
    #[arg(long, env = "KULANZ_ZENDESK_WEBHOOK_MAX_ROLE")]
    pub zendesk_webhook_max_role: Option<String>,
    /// The same for the generic webhook.
    #[arg(long, env = "KULANZ_WEBHOOK_MAX_ROLE")]
    pub webhook_max_role: Option<String>,
    /// The Zendesk app's public key (PEM, from `/api/v2/apps/{app_id}/public_key.pem`):
    /// switches on `POST /zendesk/app`, the app's page loaded with a signed token.
    #[arg(long, env = "KULANZ_ZENDESK_APP_PUBLIC_KEY",
          requires_all = ["zendesk_subdomain", "zendesk_roles"])]
    pub zendesk_app_public_key: Option<PathBuf>,
    /// The Zendesk account (`NAME` of NAME.zendesk.com) whose tokens are accepted.
    #[arg(long, env = "KULANZ_ZENDESK_SUBDOMAIN")]
    pub zendesk_subdomain: Option<String>,
    /// JSON mapping Zendesk user ids to kulanz roles, with a default:
    /// `{"default": "agent", "users": {"9876543": "lead"}}`.
    #[arg(long, env = "KULANZ_ZENDESK_ROLES")]
    pub zendesk_roles: Option<PathBuf>,
    /// How long a desk session of the Zendesk app lasts, in hours.
    #[arg(long, env = "KULANZ_ZENDESK_SESSION_HOURS",
          default_value_t = crate::service::zendesk_app::DEFAULT_SESSION_HOURS)]
    pub zendesk_session_hours: u64,
    /// Accepted difference, in seconds, between a webhook's signed timestamp and now.
    #[arg(long, env = "KULANZ_WEBHOOK_TOLERANCE_SECS", default_value_t = crate::service::webhooks::DEFAULT_TOLERANCE_SECS)]
    pub webhook_tolerance_secs: u64,
    /// Push each new at-risk customer to this `http://` URL as a proactive-ticket payload
    /// (docs/closing-the-loop.md); off when unset.
    #[arg(long, env = "KULANZ_AT_RISK_WEBHOOK")]
    pub at_risk_webhook: Option<String>,
    /// Sign at-risk pushes with this secret (`X-Kulanz-Signature`).
    #[arg(long, env = "KULANZ_AT_RISK_WEBHOOK_SECRET", hide_env_values = true)]
    pub at_risk_webhook_secret: Option<String>,
    /// Seconds between at-risk push passes.
    #[arg(long, env = "KULANZ_AT_RISK_INTERVAL_SECS", default_value_t = 3600)]
    pub at_risk_interval_secs: u64,
    /// Most at-risk customers pushed per pass (highest value first; the rest follow later).
    #[arg(long, env = "KULANZ_AT_RISK_MAX_PER_PASS", default_value_t = crate::service::at_risk_push::DEFAULT_MAX_PER_PASS)]
    pub at_risk_max_per_pass: usize,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Cluster mode's flags (docs/cluster.md).
#[derive(clap::Args, Debug)]
pub struct ClusterArgs {
    /// Run as one replica of a cluster: the NATS servers holding the replicated log,
    /// comma-separated (e.g. `nats://h1:4222,nats://h2:4222,nats://h3:4222`). Without it,
    /// kulanz runs as a single node on its own disk.
    #[arg(long = "cluster", env = "KULANZ_CLUSTER")]
    pub urls: Option<String>,
    /// The cluster's name: the stream and subject prefix its replicas share.
    #[arg(long, env = "KULANZ_CLUSTER_NAME", default_value = "kulanz")]
    pub cluster_name: String,
    /// This replica's id, in logs and in each log entry it writes (default: the host name).
    #[arg(long, env = "KULANZ_REPLICA_ID")]
    pub replica_id: Option<String>,
    /// Log entries between snapshots of the store; the log keeps one to two such
    /// intervals (docs/cluster.md). 0: no periodic snapshots, and the log keeps everything
    /// but what erasures purge.
    #[arg(long, env = "KULANZ_SNAPSHOT_EVERY", default_value_t = crate::cluster::config::SNAPSHOT_EVERY)]
    pub snapshot_every: u64,
}

impl ClusterArgs {
    /// The cluster settings, if `--cluster` was given.
    pub fn config(&self) -> anyhow::Result<Option<crate::cluster::ClusterConfig>> {
        let Some(urls) = &self.urls else {
            return Ok(None);
        };
        let id = self
            .replica_id
            .clone()
            .unwrap_or_else(crate::cluster::config::hostname);
        let mut cfg = crate::cluster::ClusterConfig::new(urls, &self.cluster_name, &id)?;
        cfg.snapshot_every = self.snapshot_every;
        Ok(Some(cfg))
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    telemetry::init(args.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // A bad webhook URL stops the start before anything is opened.
    let push = args
        .at_risk_webhook
        .as_deref()
        .map(|url| {
            crate::service::at_risk_push::PushConfig::new(
                url,
                args.at_risk_webhook_secret.clone(),
                std::time::Duration::from_secs(args.at_risk_interval_secs.max(1)),
            )
            .map(|c| c.with_max_per_pass(args.at_risk_max_per_pass))
        })
        .transpose()
        .map_err(|e| anyhow::anyhow!(e))?;
    // So are a bad key or roles file of the Zendesk app.
    let zendesk_app = zendesk_app(&args)?;
    let cluster = args.cluster.config()?;
    runtime.block_on(async move {
        let mut app = Application::build_clustered(
            &args.listen,
            &args.data.data_dir,
            &args.policy_dir,
            args.compact_on_start,
            cluster,
        )
        .await?
            .with_durability(args.durability)
            .with_idempotency_window(std::time::Duration::from_secs(
                args.idempotency_window_hours.saturating_mul(3600),
            ))
            .with_rate_limit(args.rate_limit_per_sec, args.rate_limit_burst)
            .with_connection_limits(crate::connections::ConnectionLimits {
                max_connections: args.max_connections,
                header_timeout: std::time::Duration::from_secs(args.header_timeout_secs.max(1)),
            })
            .with_request_timeout(std::time::Duration::from_secs(
                args.request_timeout_secs.max(1),
            ))
            .with_webhooks(crate::service::webhooks::WebhookConfig {
                zendesk_secret: args.zendesk_webhook_secret.clone(),
                generic_secret: args.webhook_secret.clone(),
                tolerance_secs: args.webhook_tolerance_secs,
                zendesk_max_role: args.zendesk_webhook_max_role.clone(),
                generic_max_role: args.webhook_max_role.clone(),
                ..Default::default()
            });
        if let Some(mut zendesk) = zendesk_app {
            // Behind a load balancer a desk session signed here must verify on every replica.
            if let Some(cluster) = app.state.cluster.clone() {
                zendesk = zendesk.with_session_key(cluster.shared_secret("desk_session_key").await?);
            }
            if let Ok(policy) = app.state.active_policy() {
                for role in zendesk.unknown_roles(&policy.roles) {
                    tracing::warn!(%role, "the Zendesk roles file names a role the active policy lacks; its users are refused");
                }
            }
            app = app.with_zendesk_app(zendesk);
        }
        for line in &app.report.refused {
            tracing::warn!(problem = %line, "policy refused");
        }
        if args.watch_policies {
            app.watch_policies(
                &args.policy_dir,
                std::time::Duration::from_millis(args.watch_interval_ms.max(100)),
            );
        }
        let addr = app.local_addr()?;
        tracing::info!(%addr, policy = ?app.report.active, "kulanz listening");
        for market in &app.report.markets {
            tracing::info!(%market, "market active");
        }
        if args.demo {
            let demo = crate::demo::seed(&app.state.store, chrono::Utc::now())?;
            println!("{}", crate::demo::banner(&addr.to_string(), &demo));
            println!(
                "# The agent sidebar for S6, in German (open in a browser):\n{}\n",
                crate::http::widget::demo_url(&addr.to_string(), &demo.secret)
            );
            println!("# The lead's console (sign in with the key above):\nhttp://{addr}/console\n");
        }
        // After the demo seed, so the first pass sees the seeded customers.
        if let Some(cfg) = push {
            if cfg.secret.is_none() {
                tracing::warn!("at-risk pushes are not signed: set --at-risk-webhook-secret");
            }
            tracing::info!(url = %cfg.url, every_secs = cfg.interval.as_secs(), "pushing at-risk customers");
            app.push_at_risk(cfg);
        }
        app.run_until(shutdown_signal()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The Zendesk app's verifier and role mapping, from the files `serve` was given.
fn zendesk_app(
    args: &ServeArgs,
) -> anyhow::Result<Option<crate::service::zendesk_app::ZendeskApp>> {
    use crate::service::zendesk_app::{roles::DeskRoles, token::ZafVerifier, ZendeskApp};
    let (Some(key), Some(subdomain), Some(roles)) = (
        &args.zendesk_app_public_key,
        &args.zendesk_subdomain,
        &args.zendesk_roles,
    ) else {
        return Ok(None);
    };
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))
    };
    let verifier = ZafVerifier::new(&read(key)?, subdomain)?;
    let roles = DeskRoles::parse(&read(roles)?)?;
    Ok(Some(ZendeskApp::new(
        verifier,
        roles,
        args.zendesk_session_hours,
    )))
}
