//! Pacing `SendEmail` to the account's sending rate (SES v2 `GetAccount`,
//! `SendQuota.MaxSendRate`): past it SES answers 429 to everyone. Each container takes
//! `1 / share` of the rate (`share`: how many email senders may run at once), read once
//! per ten minutes; when the rate cannot be read, nothing is paced and a throttled send
//! simply backs off (it never counts against the SES circuit).
use aws_sdk_sesv2::Client;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const REREAD: Duration = Duration::from_secs(600);

pub struct Pacer {
    share: f64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Seconds between two sends from this container; None: not paced.
    interval: Option<f64>,
    read_at: Option<Instant>,
    next: Option<Instant>,
}

impl Pacer {
    pub fn new(share: u32) -> Self {
        Pacer { share: f64::from(share.max(1)), state: Mutex::new(State::default()) }
    }

    /// Waits for this container's next send slot.
    pub async fn wait(&self, client: &Client) {
        let slot = {
            let mut st = self.state.lock().await;
            if st.read_at.is_none_or(|at| at.elapsed() > REREAD) {
                st.interval = self.interval(client).await;
                st.read_at = Some(Instant::now());
            }
            let Some(interval) = st.interval else { return };
            let now = Instant::now();
            let slot = st.next.map_or(now, |n| n.max(now));
            st.next = Some(slot + Duration::from_secs_f64(interval));
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
    }

    async fn interval(&self, client: &Client) -> Option<f64> {
        match client.get_account().send().await {
            Ok(account) => {
                let rate = account.send_quota().map(|q| q.max_send_rate()).filter(|r| *r > 0.0)?;
                tracing::info!(max_send_rate = rate, share = self.share, "SES sends paced to the account's rate");
                Some(self.share / rate)
            }
            Err(e) => {
                tracing::warn!(error = ?e, "SES GetAccount failed; sends are not paced (throttling backs off)");
                None
            }
        }
    }
}
