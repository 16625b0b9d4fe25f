//! Runs the provider simulator on its own, for trying herald-local with live keys:
//! point TWILIO_API_BASE / TELNYX_API_BASE / WHATSAPP_API_BASE at it.
#[tokio::main]
async fn main() {
    let listen = std::env::var("HERALD_SIM_LISTEN").unwrap_or_else(|_| "127.0.0.1:4010".into());
    let sim = herald_tests::sim::Simulator::start(&listen).await.expect("bind");
    println!(
        "herald-sim listening on {} (twilio sid {}, telnyx key {}, whatsapp token {})",
        sim.url(),
        herald_tests::sim::TWILIO_SID,
        herald_tests::sim::TELNYX_KEY,
        herald_tests::sim::WHATSAPP_TOKEN
    );
    tokio::signal::ctrl_c().await.ok();
}
