//! `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + each parameter name and value,
//! sorted)). Every comparison is constant-time.
use crate::common::ct_eq;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Twilio: base64(HMAC-SHA1(token, url + for each name sorted: name + each sorted value)).
pub fn twilio_signature(url: &str, params: &[(String, String)], token: &str) -> String {
    let mut sorted: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    sorted.sort();
    sorted.dedup();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).expect("hmac accepts any key");
    mac.update(data.as_bytes());
    b64().encode(mac.finalize().into_bytes())
}

/// The URL with its port removed, and with the scheme's default port added.
fn url_variants(url: &str) -> Vec<String> {
    let Ok(parsed) = url::Url::parse(url) else { return vec![url.to_string()] };
    let mut without = parsed.clone();
    let _ = without.set_port(None);
    let default = match parsed.scheme() {
        "https" => 443,
        _ => 80,
    };
    // url::Url drops a port equal to the default, so the ":443" form is built by hand.
    let host = parsed.host_str().unwrap_or_default();
    let with_port = format!(
        "{}://{}:{}{}",
        parsed.scheme(),
        host,
        default,
        &without.as_str()[without.origin().ascii_serialization().len()..]
    );
    let mut out = vec![url.to_string(), without.to_string(), with_port];
    out.dedup();
    out
}

/// Validates against any of `tokens` (current and previous during a rotation), and both URL
/// forms (without its port, with the default port).
pub fn twilio_valid(url: &str, params: &[(String, String)], signature: &str, tokens: &[&str]) -> bool {
    let variants = url_variants(url);
    tokens.iter().any(|token| {
        variants.iter().any(|u| ct_eq(twilio_signature(u, params, token).as_bytes(), signature.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn official() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ])
    }

    /// twilio-python tests/unit/test_request_validator.py, as in providers.md §1.
    #[test]
    fn twilio_official_vectors() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(twilio_signature(url, &official(), "12345"), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(twilio_valid(url, &official(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=", &["12345"]));
        assert!(twilio_valid(
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &official(),
            "kvajT1Ptam85bY51eRf/AJRuM3w=",
            &["12345"]
        ));
        assert!(twilio_valid(
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &official(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            &["12345"]
        ));
        assert!(twilio_valid(
            "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
            &official(),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
            &["12345"]
        ));
        assert!(twilio_valid(
            "http://mycompany.com:80/myapp.php?foo=1&bar=2",
            &official(),
            "0ZXoZLH/DfblKGATFgpif+LLRf4=",
            &["12345"]
        ));
        assert!(
            twilio_valid(
                "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
                &official(),
                "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
                &["12345"]
            ),
            "any port validates the port-less form"
        );
        let dup = params(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(twilio_signature(url, &dup, "12345"), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
        let body_url = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert_eq!(twilio_signature(body_url, &[], "12345"), "a9nBmqA0ju/hNViExpshrM61xv4=");
    }

    #[test]
    fn twilio_status_callback_vector_and_rotation() {
        let body = "AccountSid=AC00000000000000000000000000000001&ApiVersion=2010-04-01&ErrorCode=30003&From=%2B15005550006&MessageSid=SM00000000000000000000000000000001&MessageStatus=undelivered&SmsSid=SM00000000000000000000000000000001&SmsStatus=undelivered&To=%2B15005550001";
        let p: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        assert_eq!(twilio_signature("https://example.com/twilio/status", &p, "12345"), "uJqQ+EZfS9hgNqCtCgH+l8taFOA=");
        assert!(twilio_valid(
            "https://example.com/twilio/status",
            &p,
            "uJqQ+EZfS9hgNqCtCgH+l8taFOA=",
            &["new-token", "12345"]
        ));
        assert!(!twilio_valid("https://example.com/twilio/status", &p, "uJqQ+EZfS9hgNqCtCgH+l8taFOA=", &["new-token"]));
        let mut altered = p.clone();
        altered.push(("Body".into(), "x".into()));
        assert!(!twilio_valid(
            "https://example.com/twilio/status",
            &altered,
            "uJqQ+EZfS9hgNqCtCgH+l8taFOA=",
            &["12345"]
        ));
    }
}
