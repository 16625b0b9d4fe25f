//! Recipient addresses. "Parse, don't validate": an `E164` or `EmailAddress` is always valid.
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct E164(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("not a valid phone number")]
    InvalidPhone,
    #[error("not a valid email address")]
    InvalidEmail,
}

impl E164 {
    /// Parses a number in E.164, or in national format when the tenant has a default country.
    pub fn parse(input: &str, default_country: Option<&str>) -> Result<Self, AddressError> {
        let input = input.trim();
        if input.is_empty() || input.len() > 32 {
            return Err(AddressError::InvalidPhone);
        }
        let country = if input.starts_with('+') {
            None
        } else {
            Some(
                default_country
                    .and_then(|c| c.to_ascii_uppercase().parse::<phonenumber::country::Id>().ok())
                    .ok_or(AddressError::InvalidPhone)?,
            )
        };
        let number = phonenumber::parse(country, input).map_err(|_| AddressError::InvalidPhone)?;
        if !phonenumber::is_valid(&number) {
            return Err(AddressError::InvalidPhone);
        }
        Ok(Self(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    /// Re-wraps a value that was stored by Herald (already normalised).
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits only, as WhatsApp and Telnyx search filters want them.
    pub fn digits(&self) -> &str {
        self.0.trim_start_matches('+')
    }

    /// ISO region of the number (e.g. "US"), where the numbering plan tells it.
    pub fn region(&self) -> Option<String> {
        let n = phonenumber::parse(None, &self.0).ok()?;
        n.country().id().map(|id| format!("{id:?}"))
    }

    /// For logs: keeps the country code and the last two digits only.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

pub fn mask_phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 5 {
        return "***".into();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 5))
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let s = input.trim().to_lowercase();
        let (local, domain) = s.rsplit_once('@').ok_or(AddressError::InvalidEmail)?;
        let ok = !local.is_empty()
            && local.len() <= 64
            && s.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            && !local.contains(char::is_whitespace)
            && !local.contains('@')
            && local.chars().all(|c| !c.is_control() && c != '<' && c != '>' && c != ',');
        if ok {
            Ok(Self(s))
        } else {
            Err(AddressError::InvalidEmail)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn masked(&self) -> String {
        match self.0.split_once('@') {
            Some((l, d)) => format!("{}***@{d}", l.chars().next().unwrap_or('*')),
            None => "***".into(),
        }
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A recipient or do-not-contact address: a phone in E.164 or a lower-cased email. Stored
/// and shown as its string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    Phone(E164),
    Email(EmailAddress),
}

impl Address {
    pub fn parse(input: &str, default_country: Option<&str>) -> Result<Self, AddressError> {
        if input.contains('@') {
            EmailAddress::parse(input).map(Address::Email)
        } else {
            E164::parse(input, default_country).map(Address::Phone)
        }
    }
    /// Re-wraps a value that was stored by Herald (already normalised).
    pub fn from_stored(s: String) -> Self {
        if s.contains('@') {
            Address::Email(EmailAddress(s))
        } else {
            Address::Phone(E164(s))
        }
    }
    pub fn phone(&self) -> Option<&E164> {
        match self {
            Address::Phone(p) => Some(p),
            Address::Email(_) => None,
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            Address::Phone(p) => p.as_str(),
            Address::Email(e) => e.as_str(),
        }
    }
    pub fn masked(&self) -> String {
        match self {
            Address::Phone(p) => p.masked(),
            Address::Email(e) => e.masked(),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::ops::Deref for E164 {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for EmailAddress {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Address {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Address::from_stored)
    }
}

impl PartialEq<str> for Address {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<str> for E164 {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_formats_normalise_to_e164() {
        let a = E164::parse("+1 (415) 555-0100", None).unwrap();
        let b = E164::parse("+14155550100", None).unwrap();
        let c = E164::parse("(415) 555-0100", Some("US")).unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.as_str(), "+14155550100");
        assert_eq!(a.region().as_deref(), Some("US"));
        assert_eq!(E164::parse("+33612345678", None).unwrap().region().as_deref(), Some("FR"));
    }

    #[test]
    fn national_format_needs_a_country() {
        assert_eq!(E164::parse("4155550100", None), Err(AddressError::InvalidPhone));
        assert_eq!(E164::parse("not a number", Some("US")), Err(AddressError::InvalidPhone));
        assert_eq!(E164::parse("+1555", None), Err(AddressError::InvalidPhone));
        assert_eq!(E164::parse("", None), Err(AddressError::InvalidPhone));
    }

    #[test]
    fn emails() {
        assert_eq!(EmailAddress::parse(" Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        for bad in ["ann", "ann@", "@x.com", "ann@localhost", "a b@x.com", "ann@x..com"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn masking_hides_the_middle() {
        assert_eq!(mask_phone("+14155550100"), "+14*******00");
        assert_eq!(EmailAddress::parse("ann@x.com").unwrap().masked(), "a***@x.com");
    }
}
