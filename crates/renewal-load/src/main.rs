//! `renewal-load`: drives a running Renewal gRPC server with N concurrent clients (one
//! connection each) issuing gap, profile and versus requests in turn for T seconds, and
//! reports throughput, latency percentiles of the answered requests and of the refused ones,
//! errors by gRPC code, and the server's resident memory (from `/proc/<pid>/status`).
//!
//! A request counts as answered when its whole stream has been read; its latency runs from
//! sending it to the last message. A request refused with RESOURCE_EXHAUSTED is timed the
//! same way, to show refusals come at once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use renewal_server::pb;
use renewal_server::pb::analysis_client::AnalysisClient;
use serde::Serialize;
use tonic::transport::Channel;

#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The server, `host:port`.
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: String,
    /// Bearer key (none in development mode).
    #[arg(long, env = "RENEWAL_LOAD_KEY")]
    key: Option<String>,
    /// Concurrent clients, each on its own connection, each with one request in flight.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Indicator for every request.
    #[arg(long, default_value = "crime-all")]
    indicator: String,
    /// Authority of the gap and versus requests.
    #[arg(long, default_value = "E08999001")]
    authority: String,
    /// Selection of the versus requests.
    #[arg(long, default_value = "imd-decile<=2")]
    select: String,
    /// Area of the profile requests.
    #[arg(long, default_value = "E05999001")]
    area: String,
    /// Requests to mix, in turn: any of gap, profile, versus.
    #[arg(long, value_delimiter = ',', default_value = "gap,profile,versus")]
    mix: Vec<Kind>,
    /// The server's process id: its RSS is sampled during the run.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Label of this run in the report.
    #[arg(long, default_value = "")]
    label: String,
    /// Honour the server's `grpc-retry-pushback-ms` on RESOURCE_EXHAUSTED (wait before that
    /// client's next request), as gRPC clients with a retry policy do. Without it, refused
    /// clients retry at once: a flood, the worst case.
    #[arg(long)]
    pushback: bool,
    /// Print the report as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Gap,
    Profile,
    Versus,
}

/// One finished request.
struct Outcome {
    kind: Kind,
    code: tonic::Code,
    elapsed: Duration,
}

/// Percentiles of a set of latencies, in milliseconds (nearest rank).
#[derive(Debug, Default, Serialize)]
struct Latency {
    count: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

impl Latency {
    fn of(mut v: Vec<Duration>) -> Latency {
        if v.is_empty() {
            return Latency::default();
        }
        v.sort();
        let rank = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        Latency {
            count: v.len(),
            p50_ms: ms(rank(0.50)),
            p99_ms: ms(rank(0.99)),
            max_ms: ms(v[v.len() - 1]),
        }
    }
}

#[derive(Debug, Serialize)]
struct Report {
    label: String,
    clients: usize,
    seconds: f64,
    requests: usize,
    answered: usize,
    /// Answered requests per second.
    throughput: f64,
    /// Latency of answered requests.
    ok: Latency,
    /// Latency of answered requests, by kind.
    ok_by_kind: BTreeMap<String, Latency>,
    /// Latency of RESOURCE_EXHAUSTED refusals.
    refused: Latency,
    /// Requests by final gRPC code (`Ok` included).
    codes: BTreeMap<String, usize>,
    /// Latency of the first client's first request, ms: the cold figure when the run is the
    /// first after the server starts (nothing cached yet).
    first_ms: Option<f64>,
    /// Server resident set size, MiB: before the run, highest sampled during it, after it.
    rss_before_mib: Option<f64>,
    rss_peak_mib: Option<f64>,
    rss_after_mib: Option<f64>,
}

fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn authed<T>(message: T, key: &Option<String>) -> Result<tonic::Request<T>> {
    let mut r = tonic::Request::new(message);
    if let Some(k) = key {
        r.metadata_mut().insert(
            "authorization",
            format!("Bearer {k}")
                .parse()
                .context("the key is not a valid header value")?,
        );
    }
    Ok(r)
}

/// Sends one request and reads its whole stream: the final code, and the pushback the server
/// asked for when it refused.
async fn one(
    client: &mut AnalysisClient<Channel>,
    args: &Args,
    kind: Kind,
) -> (tonic::Code, Option<Duration>) {
    let code = |s: tonic::Status| {
        let pushback = s
            .metadata()
            .get("grpc-retry-pushback-ms")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis);
        (s.code(), pushback)
    };
    let scope = None;
    let response = match kind {
        Kind::Gap => match authed(
            pb::GapRequest {
                indicator: args.indicator.clone(),
                authority: args.authority.clone(),
                scope,
                ..Default::default()
            },
            &args.key,
        ) {
            Ok(r) => client.area_gap(r).await,
            Err(_) => return (tonic::Code::InvalidArgument, None),
        },
        Kind::Profile => match authed(
            pb::ProfileRequest {
                area: args.area.clone(),
                scope,
            },
            &args.key,
        ) {
            Ok(r) => client.area_profile(r).await,
            Err(_) => return (tonic::Code::InvalidArgument, None),
        },
        Kind::Versus => match authed(
            pb::SelectionRequest {
                indicator: args.indicator.clone(),
                authority: args.authority.clone(),
                selection: args.select.clone(),
                scope,
                ..Default::default()
            },
            &args.key,
        ) {
            Ok(r) => client.deprived_vs_rest(r).await,
            Err(_) => return (tonic::Code::InvalidArgument, None),
        },
    };
    let mut stream = match response {
        Ok(r) => r.into_inner(),
        Err(s) => return code(s),
    };
    loop {
        match stream.message().await {
            Ok(Some(_)) => {}
            Ok(None) => return (tonic::Code::Ok, None),
            Err(s) => return code(s),
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Arc::new(Args::parse());
    if args.clients == 0 || args.mix.is_empty() || args.seconds <= 0.0 {
        bail!("--clients, --mix and --seconds must be positive");
    }
    let endpoint = format!("http://{}", args.addr);
    // Every client connects before the clock starts, so connection set-up is not measured.
    let mut channels = Vec::new();
    for _ in 0..args.clients {
        channels.push(
            Channel::from_shared(endpoint.clone())?
                .tcp_nodelay(true)
                .connect()
                .await
                .with_context(|| format!("connecting to {}", args.addr))?,
        );
    }
    let rss_before = args.server_pid.and_then(rss_mib);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.seconds);
    let peak = Arc::new(std::sync::Mutex::new(rss_before));
    let sampler = args.server_pid.map(|pid| {
        let peak = peak.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                if let (Some(now), Ok(mut p)) = (rss_mib(pid), peak.lock()) {
                    *p = Some(p.map_or(now, |p: f64| p.max(now)));
                }
            }
        })
    });
    let tasks: Vec<_> = channels
        .into_iter()
        .enumerate()
        .map(|(i, ch)| {
            let args = args.clone();
            tokio::spawn(async move {
                let mut client = AnalysisClient::new(ch);
                let mut outcomes = Vec::new();
                // Clients start at different places in the mix, so every kind runs at once.
                let mut turn = i;
                while Instant::now() < deadline {
                    let kind = args.mix[turn % args.mix.len()];
                    turn += 1;
                    let t = Instant::now();
                    let (code, pushback) = one(&mut client, &args, kind).await;
                    outcomes.push(Outcome {
                        kind,
                        code,
                        elapsed: t.elapsed(),
                    });
                    if let Some(wait) = pushback.filter(|_| args.pushback) {
                        tokio::time::sleep(
                            wait.min(deadline.saturating_duration_since(Instant::now())),
                        )
                        .await;
                    }
                }
                outcomes
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    let mut first_ms = None;
    for t in tasks {
        let client = t.await?;
        if first_ms.is_none() {
            first_ms = client.first().map(|o| o.elapsed.as_secs_f64() * 1000.0);
        }
        outcomes.extend(client);
    }
    let wall = started.elapsed().as_secs_f64();
    if let Some(s) = sampler {
        s.abort();
    }
    let rss_after = args.server_pid.and_then(rss_mib);
    let rss_peak = peak.lock().ok().and_then(|p| *p);

    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut ok_by_kind: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
    let mut ok = Vec::new();
    let mut refused = Vec::new();
    for o in &outcomes {
        *codes.entry(format!("{:?}", o.code)).or_default() += 1;
        match o.code {
            tonic::Code::Ok => {
                ok.push(o.elapsed);
                ok_by_kind.entry(o.kind).or_default().push(o.elapsed);
            }
            tonic::Code::ResourceExhausted => refused.push(o.elapsed),
            _ => {}
        }
    }
    let answered = ok.len();
    let report = Report {
        label: args.label.clone(),
        clients: args.clients,
        seconds: wall,
        requests: outcomes.len(),
        answered,
        throughput: answered as f64 / wall,
        ok: Latency::of(ok),
        ok_by_kind: ok_by_kind
            .into_iter()
            .map(|(k, v)| (format!("{k:?}").to_lowercase(), Latency::of(v)))
            .collect(),
        refused: Latency::of(refused),
        codes,
        first_ms,
        rss_before_mib: rss_before,
        rss_peak_mib: rss_peak,
        rss_after_mib: rss_after,
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_text(&report);
    }
    Ok(())
}

fn print_text(r: &Report) {
    let mib = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
    println!(
        "{}{} clients, {:.1} s: {} requests, {} answered ({:.1}/s)",
        if r.label.is_empty() {
            String::new()
        } else {
            format!("{}: ", r.label)
        },
        r.clients,
        r.seconds,
        r.requests,
        r.answered,
        r.throughput
    );
    println!(
        "  answered  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        r.ok.p50_ms, r.ok.p99_ms, r.ok.max_ms
    );
    for (k, l) in &r.ok_by_kind {
        println!(
            "    {k:<8} n {:>6}  p50 {:.2} ms  p99 {:.2} ms",
            l.count, l.p50_ms, l.p99_ms
        );
    }
    println!(
        "  refused   n {}  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        r.refused.count, r.refused.p50_ms, r.refused.p99_ms, r.refused.max_ms
    );
    println!("  codes     {:?}", r.codes);
    if let Some(first) = r.first_ms {
        println!("  first request {first:.2} ms");
    }
    println!(
        "  server RSS MiB: before {}, peak {}, after {}",
        mib(r.rss_before_mib),
        mib(r.rss_peak_mib),
        mib(r.rss_after_mib)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nearest-rank percentiles, worked by hand: of 1..=100 ms, p50 is the 50th value and p99
    /// the 99th; of one value, every percentile is it.
    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let l = Latency::of(v);
        assert_eq!(
            (l.count, l.p50_ms, l.p99_ms, l.max_ms),
            (100, 50.0, 99.0, 100.0)
        );
        let l = Latency::of(vec![Duration::from_millis(7)]);
        assert_eq!((l.p50_ms, l.p99_ms, l.max_ms), (7.0, 7.0, 7.0));
        assert_eq!(Latency::of(Vec::new()).count, 0);
    }
}
