//! `POST /v1/messages/batch`: each message validated, admitted and priced on its own, then
//! the jobs of those that go out now put on their queues ten to a request
//! (`SendMessageBatch`), then each message written — enqueue before write, as for one message.
//! A message whose job could not be queued is refused `503` with nothing written and its
//! budget reservation released; the others are accepted.
use super::{accepted, goes_now, Accepting, Intake};
use super::{Acceptance, SendRequest};
use crate::ids::CorrelationId;
use crate::message::Message;
use crate::service::{Caller, HeraldError};
use crate::tenant::{ApiKeyRecord, Tenant};

impl Accepting {
    /// One result per request, in order. Batches carry no Idempotency-Key.
    #[tracing::instrument(name = "accept_batch", skip_all, fields(count = reqs.len()))]
    pub async fn accept_batch(
        &self,
        caller: &Caller,
        reqs: Vec<SendRequest>,
        correlation_id: CorrelationId,
    ) -> Vec<Result<Acceptance, HeraldError>> {
        let Caller::Tenant { tenant, key, .. } = caller else {
            return reqs.iter().map(|_| Err(HeraldError::Forbidden)).collect();
        };
        let mut drafted = Vec::with_capacity(reqs.len());
        for req in reqs {
            drafted.push(self.prepare(tenant, key, req, correlation_id.clone()).await);
        }
        let now: Vec<(usize, &Message)> = drafted
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.as_ref().ok().map(|(m, _)| (i, m)))
            .filter(|(_, m)| goes_now(m))
            .collect();
        let msgs: Vec<&Message> = now.iter().map(|(_, m)| *m).collect();
        let queued = self.outbox.try_enqueue_batch(&msgs).await;
        let mut refused: Vec<Option<HeraldError>> = drafted.iter().map(|_| None).collect();
        for ((i, _), r) in now.iter().zip(queued) {
            refused[*i] = r.err();
        }
        let mut out = Vec::with_capacity(drafted.len());
        for (d, refusal) in drafted.into_iter().zip(refused) {
            out.push(match (d, refusal) {
                (Err(e), _) => Err(e),
                (Ok((msg, _)), Some(e)) => {
                    self.budgets.release(&msg, msg.reserved_cents).await;
                    Err(e)
                }
                (Ok((msg, acceptance)), None) => self.write(&msg).await.map(|()| acceptance),
            });
        }
        out
    }

    async fn prepare(
        &self,
        tenant: &Tenant,
        key: &ApiKeyRecord,
        req: SendRequest,
        correlation_id: CorrelationId,
    ) -> Result<(Message, Acceptance), HeraldError> {
        let valid = self.validated(tenant, key.mode, &req).await?;
        let intake = Intake::new(tenant, key, req, valid, None, correlation_id);
        let intake = self.admit(intake).await?;
        Ok(self.draft_answer(intake))
    }

    /// Writes a message whose job (if it has one now) is queued. A failed write leaves that
    /// job without a message (the sender drops it) and releases the reservation.
    async fn write(&self, msg: &Message) -> Result<(), HeraldError> {
        if let Err(e) = self.messages.insert(msg).await {
            self.budgets.release(msg, msg.reserved_cents).await;
            return Err(e.into());
        }
        accepted(msg);
        Ok(())
    }
}
