//! Email identities a tenant sends from: a whole domain, or one address. A domain covers
//! every address in it; once a tenant holds a domain, no other tenant may claim it or any
//! address in it.
use crate::address::{AddressError, EmailAddress};
use crate::ids::TenantId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailIdentity(String);

impl EmailIdentity {
    /// `example.com` or `news@example.com`, lower-cased.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let s = input.trim().to_lowercase();
        if s.contains('@') {
            return EmailAddress::parse(&s).map(|e| EmailIdentity(e.as_str().to_string()));
        }
        let labels_ok = s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if s.len() <= 253 && s.contains('.') && labels_ok {
            Ok(EmailIdentity(s))
        } else {
            Err(AddressError::InvalidEmail)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_domain(&self) -> bool {
        !self.0.contains('@')
    }

    /// The domain the identity is in (itself, for a domain).
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or(self.0.as_str(), |(_, d)| d)
    }

    /// The identities that cover `address`: itself, its domain, then each parent domain
    /// (a domain covers its subdomains), down to two labels.
    pub fn covering(address: &EmailAddress) -> Vec<EmailIdentity> {
        let a = EmailIdentity(address.as_str().to_string());
        let d = EmailIdentity(a.domain().to_string());
        let mut out = vec![a, d.clone()];
        out.extend(d.parents());
        out
    }

    /// The domains that would cover this identity: an address's own domain, then the
    /// parents.
    pub fn enclosing(&self) -> Vec<EmailIdentity> {
        let mut out = Vec::new();
        if !self.is_domain() {
            out.push(EmailIdentity(self.domain().to_string()));
        }
        out.extend(self.parents());
        out
    }

    /// The domains above this identity's domain, nearest first, down to two labels
    /// (`a.b.example.com` → `b.example.com`, `example.com`; never a bare suffix).
    pub fn parents(&self) -> Vec<EmailIdentity> {
        let labels: Vec<&str> = self.domain().split('.').collect();
        (1..labels.len().saturating_sub(1)).map(|i| EmailIdentity(labels[i..].join("."))).collect()
    }
}

impl std::fmt::Display for EmailIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityStatus {
    Pending,
    Verified,
    Failed,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// What the email provider says of an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityState {
    pub status: IdentityStatus,
    pub dkim_records: Vec<DkimRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityRecord {
    pub tenant_id: TenantId,
    pub identity: EmailIdentity,
    pub status: IdentityStatus,
    #[serde(default)]
    pub dkim_records: Vec<DkimRecord>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_parse_and_cover() {
        let d = EmailIdentity::parse(" Brand.Example.com ").unwrap();
        assert!(d.is_domain());
        assert_eq!(d.as_str(), "brand.example.com");
        let a = EmailIdentity::parse("News@brand.example.com").unwrap();
        assert_eq!((a.is_domain(), a.domain()), (false, "brand.example.com"));
        for bad in ["localhost", "-x.com", "a..com", "x@", "", "a b.com"] {
            assert!(EmailIdentity::parse(bad).is_err(), "{bad}");
        }
        let cover = EmailIdentity::covering(&EmailAddress::parse("news@brand.example.com").unwrap());
        assert_eq!(cover[1], d);
        assert_eq!(cover[2].as_str(), "example.com", "a domain covers its subdomains");
        assert_eq!(cover.len(), 3, "never the bare suffix");
        let deep = EmailIdentity::parse("x@a.b.example.co.uk").unwrap();
        let parents: Vec<String> = deep.parents().iter().map(|p| p.to_string()).collect();
        assert_eq!(parents, ["b.example.co.uk", "example.co.uk", "co.uk"]);
        assert!(EmailIdentity::parse("example.com").unwrap().parents().is_empty());
    }
}
