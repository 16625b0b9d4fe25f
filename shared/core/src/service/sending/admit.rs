//! Admission: the policy gates that depend on the route (number linking, warmup, WhatsApp
//! quota) and the circuit breaker, which fails over to the backup provider or holds.
use super::{Plan, Sending};
use crate::channel::{Channel, Provider};
use crate::linking::LinkStatus;
use crate::message::{HoldReason, Message};
use crate::service::breakers::Admission;
use crate::service::policy::Gate;
use crate::service::HeraldError;
use crate::status::Status;

impl Sending {
    /// The plan that may go now, or None when the message was held (already recorded).
    pub(crate) async fn admit(&self, msg: &Message, plan: Plan) -> Result<Option<Plan>, HeraldError> {
        if let Some(gate) = self.route_gate(msg, &plan).await? {
            self.holds.apply_gate(msg, gate).await?;
            return Ok(None);
        }
        match self.breakers.admit(&plan.account).await? {
            Admission::Allow => Ok(Some(plan)),
            Admission::Probe => Ok(Some(Plan { probe: true, ..plan })),
            Admission::Deny { until } => match self.failover(msg, &plan).await? {
                Some(backup) => {
                    tracing::warn!(
                        message_id = %msg.id, from_provider = %plan.provider, to_provider = %backup.provider,
                        "circuit open: failing over to the backup provider"
                    );
                    Ok(Some(backup))
                }
                None => {
                    // Held without a due time: it waits in the hold index, costing nothing,
                    // until a probe closes the circuit and releases the hold in order.
                    tracing::info!(message_id = %msg.id, account = %plan.account, reopens = %until, "circuit open: held");
                    let gate =
                        Gate::Hold { reason: HoldReason::ProviderCircuitOpen, until: None, status: Status::Queued };
                    self.holds.apply_gate(msg, gate).await?;
                    Ok(None)
                }
            },
        }
    }

    async fn route_gate(&self, msg: &Message, plan: &Plan) -> Result<Option<Gate>, HeraldError> {
        if let Some(gate) = self.number_gate(msg, plan.provider, plan.from.as_deref()).await? {
            return Ok(Some(gate));
        }
        let quota = plan.config.as_ref().and_then(|c| c.daily_quota);
        match (msg.channel, plan.from.as_deref(), quota) {
            (Channel::Sms, Some(f), _) if plan.provider != Provider::Simulator => self.policy.warmup_gate(msg, f).await,
            (Channel::Whatsapp, _, Some(limit)) if limit > 0 => self.policy.quota_gate(msg, limit).await,
            _ => Ok(None),
        }
    }

    /// Sending from a Telnyx number that is not linked yet would fail at Telnyx: hold it.
    async fn number_gate(
        &self,
        msg: &Message,
        provider: Provider,
        from: Option<&str>,
    ) -> Result<Option<Gate>, HeraldError> {
        let (Provider::Telnyx, Some(from)) = (provider, from) else { return Ok(None) };
        match self.linking.linking(from).await? {
            Some(st) if st.status != LinkStatus::Linked => {
                tracing::info!(message_id = %msg.id, "sending number not linked yet; held");
                Ok(Some(Gate::Hold { reason: HoldReason::NumberNotLinked, until: None, status: Status::Queued }))
            }
            _ => Ok(None),
        }
    }

    /// The backup provider's plan when it has credentials, a sender and a closed breaker.
    async fn failover(&self, msg: &Message, plan: &Plan) -> Result<Option<Plan>, HeraldError> {
        let Some(config) = plan.config.as_ref() else { return Ok(None) };
        let Some(backup) = config.backup_provider.filter(|b| plan.secrets.has(*b)) else { return Ok(None) };
        let account = self.account_of(backup, &plan.secrets, Some(config));
        let admission = self.breakers.admit(&account).await?;
        if matches!(admission, Admission::Deny { .. }) {
            return Ok(None);
        }
        // An SMS number belongs to one provider; an email sender works with any.
        let requested = msg.from.as_deref().filter(|_| msg.channel == Channel::Email);
        let Some(from) = self.sender_for(msg, config, backup, requested).await? else { return Ok(None) };
        Ok(Some(Plan {
            provider: backup,
            account,
            from: Some(from),
            probe: admission == Admission::Probe,
            failover: Some(format!("failover:{}->{backup}:circuit_open", plan.provider)),
            ..plan.clone()
        }))
    }
}
