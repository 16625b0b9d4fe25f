//! `cargo bench -p herald-providers`: the pure functions on every request's hot path.
//! Plain timing loops (no external harness): iterations, ns per call, calls per second.
use herald_providers::{telnyx, twilio, whatsapp};
use std::hint::black_box;
use std::time::Instant;

fn bench(name: &str, iterations: u32, mut f: impl FnMut()) {
    for _ in 0..iterations / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(iterations);
    println!("{name:<44} {iterations:>9} iters {ns:>12.1} ns/call {:>14.0} calls/s", 1e9 / ns);
}

fn main() {
    let gsm = "Service at 10am this Sunday. Reply STOP to opt out. ".repeat(4);
    let ucs = "Café 🙂 ce soir à 20h — répondez STOP pour vous désinscrire. ".repeat(3);
    bench("segments::count GSM-7 (212 chars)", 200_000, || {
        black_box(herald_core::segments::count(black_box(&gsm)));
    });
    bench("segments::count UCS-2 (emoji, 183 chars)", 200_000, || {
        black_box(herald_core::segments::count(black_box(&ucs)));
    });
    bench("E164::parse national with country", 100_000, || {
        black_box(herald_core::E164::parse(black_box("(415) 555-0100"), Some("US")).ok());
    });
    bench("errors::classify (table hit)", 1_000_000, || {
        black_box(herald_core::errors::classify(twilio::ROWS, Some(400), Some(black_box("21614"))));
    });
    let params: Vec<(String, String)> = (0..12).map(|i| (format!("Param{i}"), format!("value-{i}"))).collect();
    bench("twilio_valid (12 params, 2 tokens)", 100_000, || {
        black_box(twilio::twilio_valid("https://herald.example/webhooks/twilio/status", &params, "x", &["a", "b"]));
    });
    let body = r#"{"data":{"event_type":"message.finalized","id":"4ee8c3a6-4995-4309-a3c6-38e3db9ea4be","occurred_at":"2023-11-14T22:13:20.000+00:00","payload":{"id":"40385f64-5717-4562-b3fc-2c963f66afa6","to":[{"phone_number":"+18665550001","status":"delivered"}]},"record_type":"event"},"meta":{"attempt":1,"delivered_to":"https://example.com/webhooks"}}"#;
    let sig = "lbHLnwFQsesN6O9mbmI9tBAPtZ2t67AfeNXHuioVpBaPWezNcZW3hjoDzArIUfMQN2or4Naf5fDhK4EDxckmAg==";
    bench("telnyx_verify (Ed25519)", 20_000, || {
        black_box(
            telnyx::telnyx_verify(
                "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
                "1700000000",
                sig,
                body.as_bytes(),
                1_700_000_000,
            )
            .is_ok(),
        );
    });
    bench("meta_valid (HMAC-SHA256, 600 B)", 200_000, || {
        black_box(whatsapp::meta_valid("TEST_APP_SECRET", body.as_bytes(), "sha256=00"));
    });
    let tz: chrono_tz::Tz = "America/Chicago".parse().unwrap();
    let q = herald_core::tenant::QuietHours { start: "21:00".into(), end: "09:00".into() };
    let now = chrono::Utc::now();
    bench("quiet::quiet_until", 200_000, || {
        black_box(herald_core::quiet::quiet_until(black_box(now), tz, &q));
    });
}
