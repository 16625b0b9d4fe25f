use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// Declares the providers: one line each, its wire name and the channel it carries.
macro_rules! providers {
    ($($variant:ident = $name:literal carries $channel:ident),* $(,)?) => {
        /// Who carries a message. `Simulator` is the built-in provider used for test keys.
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum Provider {
            $($variant,)*
            Simulator,
        }

        impl Provider {
            /// Every real provider (not the built-in simulator), for listings and health views.
            pub const ALL: &'static [Provider] = &[$(Provider::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Provider::$variant => $name,)*
                    Provider::Simulator => "simulator",
                }
            }

            /// Which providers may carry which channel.
            pub fn serves(self, channel: Channel) -> bool {
                match self {
                    $(Provider::$variant => channel == Channel::$channel,)*
                    Provider::Simulator => true,
                }
            }
        }
    };
}

providers! {
    Twilio = "twilio" carries Sms,
    Telnyx = "telnyx" carries Sms,
    Ses = "ses" carries Email,
    Smtp = "smtp" carries Email,
    Whatsapp = "whatsapp" carries Whatsapp,
}

impl FromStr for Provider {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Provider::ALL.iter().copied().chain([Provider::Simulator]).find(|p| p.as_str() == s).ok_or(())
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
