//! `herald`: the operators' command line. See `herald --help`.
#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut out = std::io::stdout();
    let code = match herald_cli::run(args, &mut out, &mut std::io::stderr()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("herald: {e:#}");
            2
        }
    };
    std::process::exit(code);
}
