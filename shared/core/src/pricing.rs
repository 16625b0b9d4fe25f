//! Cost estimates in whole cents: SMS by destination country and segment count, a flat
//! price per WhatsApp message and per email.
use crate::channel::Channel;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    pub sms_default_cents: u64,
    pub sms_by_country: HashMap<String, u64>,
    pub whatsapp_cents: u64,
    pub email_cents: u64,
}

impl Default for Pricing {
    fn default() -> Self {
        Self {
            sms_default_cents: 5,
            sms_by_country: [("US", 1), ("CA", 1), ("GB", 4), ("FR", 8), ("DE", 9)]
                .into_iter()
                .map(|(c, p)| (c.to_string(), p))
                .collect(),
            whatsapp_cents: 1,
            email_cents: 0,
        }
    }
}

impl Pricing {
    /// Parses `US=1,GB=4,default=5` (the `HERALD_SMS_PRICES` format) over the defaults.
    pub fn with_sms_prices(mut self, spec: &str) -> Option<Self> {
        for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part.split_once('=')?;
            let v: u64 = v.trim().parse().ok()?;
            let k = k.trim().to_ascii_uppercase();
            if k == "DEFAULT" {
                self.sms_default_cents = v;
            } else {
                self.sms_by_country.insert(k, v);
            }
        }
        Some(self)
    }

    pub fn estimate(&self, channel: Channel, region: Option<&str>, segments: u32) -> u64 {
        match channel {
            Channel::Sms => {
                let per = region.and_then(|r| self.sms_by_country.get(r)).copied().unwrap_or(self.sms_default_cents);
                per * u64::from(segments.max(1))
            }
            Channel::Whatsapp => self.whatsapp_cents,
            Channel::Email => self.email_cents,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn sms_cost_is_segments_times_country_price() {
        let p = Pricing::default().with_sms_prices("US=2,default=7").unwrap();
        assert_eq!(p.estimate(Channel::Sms, Some("US"), 3), 6);
        assert_eq!(p.estimate(Channel::Sms, Some("ZZ"), 2), 14);
        assert_eq!(p.estimate(Channel::Sms, None, 1), 7);
        assert_eq!(p.estimate(Channel::Whatsapp, Some("US"), 9), 1);
        assert!(Pricing::default().with_sms_prices("US").is_none());
    }
}
