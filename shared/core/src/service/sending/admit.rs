//! Admission: the send policy's guards that depend on the route (number linking, warmup,
//! WhatsApp quota) and the circuit breaker, which fails over to the backup provider or holds.
use super::{Plan, Sending};
use crate::channel::Channel;
use crate::message::{HoldReason, Message};
use crate::service::breakers::Admission;
use crate::service::policy::{Gate, Route};
use crate::service::HeraldError;

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
                    let gate = Gate::held(HoldReason::ProviderCircuitOpen);
                    self.holds.apply_gate(msg, gate).await?;
                    Ok(None)
                }
            },
        }
    }

    /// The guards that need the route (number linked, warmup, WhatsApp quota).
    async fn route_gate(&self, msg: &Message, plan: &Plan) -> Result<Option<Gate>, HeraldError> {
        let daily_quota = plan.config.as_ref().and_then(|c| c.daily_quota);
        let route = Route { provider: plan.provider, from: plan.from.as_deref(), daily_quota };
        self.policy.before_send(msg, None, Some(route)).await
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
