//! SMS segment counting, as carriers bill it (GSM 03.38 / UCS-2 with a 6-octet UDH on
//! concatenated messages). Follows Twilio's message-segment-calculator: graphemes are never
//! split across segments, so a part may hold fewer than 153 septets / 67 code units.
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encoding {
    #[serde(rename = "GSM-7")]
    Gsm7,
    #[serde(rename = "UCS-2")]
    Ucs2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    pub encoding: Encoding,
    pub segments: u32,
    /// Total bits on the air, headers included (the calculator's `totalSize`).
    pub total_bits: u32,
}

const SEGMENT_BITS: u32 = 1120;
const UDH_BITS: u32 = 48;

const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION: &str = "\u{000C}^{}\\[~]|€";

fn gsm_bits(c: char) -> Option<u32> {
    if GSM_BASIC.contains(c) {
        Some(7)
    } else if GSM_EXTENSION.contains(c) {
        Some(14)
    } else {
        None
    }
}

/// Splits into the calculator's units: grapheme clusters, except that `\r\n` counts as two.
fn units(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for g in text.graphemes(true) {
        if g == "\r\n" {
            out.push("\r");
            out.push("\n");
        } else {
            out.push(g);
        }
    }
    out
}

pub fn count(text: &str) -> SegmentInfo {
    let units = units(text);
    let gsm_sizes: Option<Vec<u32>> = units
        .iter()
        .map(|g| {
            let mut chars = g.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if (c as u32) < 0x10000 => gsm_bits(c),
                _ => None,
            }
        })
        .collect();
    let (encoding, sizes) = match gsm_sizes {
        Some(s) => (Encoding::Gsm7, s),
        None => (Encoding::Ucs2, units.iter().map(|g| 16 * g.encode_utf16().count() as u32).collect()),
    };
    let payload: u32 = sizes.iter().sum();
    if payload <= SEGMENT_BITS {
        return SegmentInfo { encoding, segments: 1, total_bits: payload };
    }
    let budget = SEGMENT_BITS - UDH_BITS;
    let mut segments = 1u32;
    let mut used = 0u32;
    for size in sizes {
        if used + size > budget {
            segments += 1;
            used = 0;
        }
        used += size;
    }
    SegmentInfo { encoding, segments, total_bits: payload + segments * UDH_BITS }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(n: usize) -> String {
        "1234567890".chars().cycle().take(n).collect()
    }

    /// Every vector of shared/reference/providers.md §4.
    #[test]
    fn reference_vectors() {
        let cases: Vec<(String, u32)> = vec![
            (digits(160), 1),
            (digits(161), 2),
            (digits(307), 3),
            (format!("😜{}", digits(68)), 1),
            (format!("😜{}", digits(69)), 2),
            (format!("😜{}", digits(133)), 3),
            (format!("🇮🇹{}", digits(66)), 1),
            (format!("🇮🇹{}", digits(67)), 2),
            (format!("🏳️‍🌈{}", digits(64)), 1),
            (format!("🏳️‍🌈{}", digits(65)), 2),
            (format!("^{}", digits(158)), 1),
            (format!("^{}", digits(159)), 2),
            (format!("😀{}", "]".repeat(68)), 1),
            (format!("😀{}", "]".repeat(69)), 2),
            ("a".repeat(306), 2),
            ("a".repeat(307), 3),
            ("Á".repeat(134), 2),
            ("Á".repeat(135), 3),
            ("Á".repeat(70), 1),
            ("Á".repeat(71), 2),
        ];
        for (text, expected) in cases {
            assert_eq!(count(&text).segments, expected, "{text:?}");
        }
    }

    #[test]
    fn sizes_and_encodings() {
        assert_eq!(count(&digits(160)).total_bits, 1120);
        assert_eq!(count(&digits(161)).total_bits, 1223);
        assert_eq!(count("hello").encoding, Encoding::Gsm7);
        assert_eq!(count("ça va").encoding, Encoding::Ucs2, "only Ç is GSM, not ç");
        assert_eq!(count("a`b").encoding, Encoding::Ucs2);
        assert_eq!(count("Ça va").encoding, Encoding::Gsm7);
        assert_eq!(count("€5 [ok]").encoding, Encoding::Gsm7);
        assert_eq!(count("a\r\nb").total_bits, 28);
        assert_eq!(count("").segments, 1);
    }
}
