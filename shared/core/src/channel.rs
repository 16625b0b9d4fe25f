use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Email,
    Whatsapp,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Sms, Channel::Email, Channel::Whatsapp];
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Whatsapp => "whatsapp",
        }
    }
}

impl FromStr for Channel {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "sms" => Ok(Channel::Sms),
            "email" => Ok(Channel::Email),
            "whatsapp" => Ok(Channel::Whatsapp),
            _ => Err(()),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who carries a message. `Simulator` is the built-in provider used for test keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Twilio,
    Telnyx,
    Ses,
    Smtp,
    Whatsapp,
    Simulator,
}

impl Provider {
    /// Every real provider (not the built-in simulator), for listings and health views.
    pub const ALL: [Provider; 5] =
        [Provider::Twilio, Provider::Telnyx, Provider::Ses, Provider::Smtp, Provider::Whatsapp];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Twilio => "twilio",
            Provider::Telnyx => "telnyx",
            Provider::Ses => "ses",
            Provider::Smtp => "smtp",
            Provider::Whatsapp => "whatsapp",
            Provider::Simulator => "simulator",
        }
    }
    /// Which providers may carry which channel.
    pub fn serves(self, channel: Channel) -> bool {
        matches!(
            (self, channel),
            (Provider::Twilio | Provider::Telnyx, Channel::Sms)
                | (Provider::Ses | Provider::Smtp, Channel::Email)
                | (Provider::Whatsapp, Channel::Whatsapp)
                | (Provider::Simulator, _)
        )
    }
}

impl FromStr for Provider {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "twilio" => Ok(Provider::Twilio),
            "telnyx" => Ok(Provider::Telnyx),
            "ses" => Ok(Provider::Ses),
            "smtp" => Ok(Provider::Smtp),
            "whatsapp" => Ok(Provider::Whatsapp),
            "simulator" => Ok(Provider::Simulator),
            _ => Err(()),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
