//! One file per guard. `Policy::new` lists them in the order they are asked.
mod budget;
mod channel;
mod dnc;
mod linked;
mod pause;
mod quiet;
mod quota;
mod rate;
mod warmup;
mod window;

pub use budget::BudgetGuard;
pub use channel::{feature_for, ChannelFlag, Flags};
pub use dnc::{DoNotContact, NOTE_DNC_BYPASS};
pub use linked::NumberLinked;
pub use pause::KillSwitch;
pub use quiet::{quiet_until, QuietHours};
pub use quota::WhatsappQuota;
pub use rate::Rate;
pub use warmup::Warmup;
pub use window::WhatsappWindow;
