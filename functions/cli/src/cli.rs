//! The command tree: one subcommand per route group of CONTRACT §13 and per runbook
//! procedure. Each leaf becomes one HTTP call (`commands.rs`).
use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "herald", version, about = "Herald's operator console: every runbook procedure as one command")]
pub struct Cli {
    /// Herald's API base URL (https; plain http only to this machine).
    #[arg(long, env = "HERALD_URL", default_value = "http://127.0.0.1:3000", global = true)]
    pub url: String,
    /// The admin key (or a tenant key for tenant routes). Prefer HERALD_KEY: a --key value
    /// shows in `ps` and in the shell's history.
    #[arg(long, env = "HERALD_KEY", global = true, hide_env_values = true)]
    pub key: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Liveness and version.
    Health,
    /// Messages of any tenant: lookups, stuck sends, back-offs.
    #[command(subcommand)]
    Messages(Messages),
    /// Outcome statistics over a window (rates, error codes, latency, top tenants).
    Stats(StatsArgs),
    /// Queue depths, dead letters and held messages per reason.
    Queues,
    /// Provider accounts: circuit state and recent success.
    Providers,
    /// Open or close a provider account's circuit by hand (audited).
    #[command(subcommand)]
    Circuit(Circuit),
    /// Tenants: list and search, create, inspect, pause (kill switch), budgets.
    #[command(subcommand)]
    Tenants(Tenants),
    /// A tenant's API keys: list (never the secrets), create, revoke one, revoke all (breach).
    #[command(subcommand)]
    Keys(Keys),
    /// Dead letters: stats, list, retry (with progress), archive.
    #[command(subcommand)]
    Dlq(Dlq),
    /// Channel kill flags.
    #[command(subcommand)]
    Features(Features),
    /// Run a scheduled job now (dispatch, stale-recovery, quota-reset, budget-reset, linking-recovery).
    Job { name: String },
    /// Telnyx number linking.
    #[command(subcommand)]
    Linking(Linking),
    /// WhatsApp daily quota per tenant.
    Quota {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// The audit trail (who changed what, when).
    Audit(AuditArgs),
    /// A tenant's calls (tenant key): missed calls, text-backs, voicemails, transcriptions.
    #[command(subcommand)]
    Calls(Calls),
    /// Any route: `herald call GET /v1/messages` (tenant routes with a tenant key).
    Call {
        method: String,
        path: String,
        /// JSON body.
        #[arg(long)]
        data: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum Messages {
    /// One message by id, any tenant.
    Get { id: String },
    /// Filtered list; without --tenant only queued/sending/scheduled/deferred.
    List(MessageFilter),
    /// Messages stuck in sending (runbook: "stuck in SENDING for 10 minutes").
    Stuck {
        #[arg(long, default_value = "10m")]
        older_than: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Queued messages waiting out a retry back-off go now (runbook: force retry).
    RetryNow {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        channel: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct MessageFilter {
    #[arg(long)]
    pub tenant: Option<String>,
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub channel: Option<String>,
    #[arg(long)]
    pub min_attempts: Option<u32>,
    #[arg(long)]
    pub older_than: Option<String>,
    /// With --tenant: the messages of one request.
    #[arg(long)]
    pub correlation_id: Option<String>,
    #[arg(long)]
    pub limit: Option<u32>,
    #[arg(long)]
    pub cursor: Option<String>,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[arg(long, default_value = "1h")]
    pub window: String,
    #[arg(long)]
    pub tenant: Option<String>,
    #[arg(long)]
    pub channel: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Circuit {
    Open {
        provider: String,
        account: String,
        #[arg(long)]
        reason: String,
    },
    Close {
        provider: String,
        account: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum Tenants {
    /// Every tenant, by id; --q searches names and ids.
    List {
        #[arg(long)]
        q: Option<String>,
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    Create {
        name: String,
        #[arg(long)]
        daily_budget_cents: Option<u64>,
        #[arg(long)]
        monthly_budget_cents: Option<u64>,
    },
    Get {
        id: String,
    },
    /// Kill switch: nothing of the tenant is sent until resumed.
    Pause {
        id: String,
        #[arg(long)]
        reason: String,
    },
    Resume {
        id: String,
    },
    Budget {
        id: String,
    },
    /// Reset the day's or month's spend (runbook: "reset the daily budget").
    BudgetReset {
        id: String,
        #[arg(long, default_value = "day")]
        period: String,
        #[arg(long)]
        reason: String,
    },
    /// A new API key (`--mode test` for a test key).
    KeyCreate {
        id: String,
        #[arg(long, default_value = "live")]
        mode: String,
    },
    KeyRevoke {
        id: String,
        key_id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum Keys {
    /// Key ids, modes, when created and last used.
    List {
        tenant: String,
    },
    /// A new key, shown once (`--mode test` for a test key).
    Create {
        tenant: String,
        #[arg(long, default_value = "live")]
        mode: String,
    },
    Revoke {
        tenant: String,
        key_id: String,
    },
    /// Every key of the tenant stops working (a breach); audited with the reason.
    RevokeAll {
        tenant: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Args, Debug, Clone)]
pub struct DlqFilter {
    #[arg(long)]
    pub tenant: Option<String>,
    #[arg(long)]
    pub channel: Option<String>,
    #[arg(long)]
    pub error_code: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct DlqList {
    #[command(flatten)]
    pub filter: DlqFilter,
    /// Only dead letters since: RFC 3339 or a duration ago (`24h`).
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long)]
    pub limit: Option<u32>,
    #[arg(long)]
    pub cursor: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct DlqRetry {
    #[command(flatten)]
    pub filter: DlqFilter,
    /// Only dead letters since: RFC 3339 or a duration ago (`24h`).
    #[arg(long)]
    pub since: Option<String>,
    /// These message ids only (comma-separated, up to 500).
    #[arg(long, value_delimiter = ',')]
    pub ids: Vec<String>,
    /// Requeue this many per call, then pause (pacing a large retry).
    #[arg(long)]
    pub batch_size: Option<u32>,
    /// Wait between batches (`2s`, `1m`).
    #[arg(long, default_value = "0s")]
    pub pause: String,
}

#[derive(Subcommand, Debug)]
pub enum Dlq {
    /// Counts per channel and error code.
    Stats {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// A page of dead letters; --cursor continues (the table prints next_cursor).
    List(DlqList),
    /// Requeue matching dead letters in paced batches, with progress.
    Retry(DlqRetry),
    /// Move dead letters older than N days to the archive.
    Archive {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, default_value_t = 7)]
        older_than_days: u32,
    },
}

#[derive(Subcommand, Debug)]
pub enum Calls {
    List {
        /// RFC 3339.
        #[arg(long)]
        since: Option<String>,
    },
    Get {
        call_sid: String,
    },
    /// The voice settings.
    Settings,
}

#[derive(Subcommand, Debug)]
pub enum Features {
    List,
    /// `herald features set sms_sending off`
    Set {
        feature: String,
        state: String,
        /// Why (kept in the audit trail).
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum Linking {
    /// Numbers whose linking is `failed` (some may still be retried; see can_retry).
    Failed,
    /// Numbers by linking status.
    List {
        #[arg(long)]
        status: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[arg(long)]
    pub tenant: Option<String>,
    #[arg(long)]
    pub action: Option<String>,
    /// RFC 3339 or a duration ago (`24h`).
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long)]
    pub limit: Option<u32>,
    #[arg(long)]
    pub cursor: Option<String>,
}
