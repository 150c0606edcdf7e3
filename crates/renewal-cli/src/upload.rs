//! `renewal upload`: a partner's ETL job sends one dataset version's files to a Renewal
//! server's `Ingest` service, which validates them as `renewal ingest` would and publishes
//! them atomically.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use clap::Args;
use renewal_server::pb;
use renewal_server::pb::upload_chunk::Part;
use tokio::io::AsyncReadExt as _;

/// Bytes per message: well under the server's default 4 MiB message limit.
const CHUNK: usize = 1 << 20;

/// Arguments of `renewal upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The server (gRPC), e.g. http://renewal.example.org:50051.
    #[arg(long, env = "RENEWAL_SERVER", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// The environment variable holding the API key (never given on the command line, where
    /// other users could read it).
    #[arg(long, default_value = "RENEWAL_API_KEY")]
    key_env: String,
    /// Send no key (a development server, `renewal serve --dev`).
    #[arg(long, conflicts_with = "key_env")]
    no_key: bool,
    /// The dataset, `partner-<namespace>-<name>` in a namespace the key owns.
    #[arg(long)]
    dataset: String,
    /// The reader, as sources.toml's `kind`.
    #[arg(long, value_parser = ["census", "benefits", "services", "crime", "population"])]
    kind: String,
    /// Period of snapshot files that do not state one.
    #[arg(long)]
    period: Option<String>,
    /// Versions of the dataset to keep (the server's default when not given).
    #[arg(long)]
    keep: Option<u32>,
    /// Kind crime: GeoJSON boundaries (WGS84) to place crimes in; repeat for several.
    #[arg(long, value_name = "GEOJSON")]
    boundaries: Vec<PathBuf>,
    /// Kind crime: the feature property holding area codes, when not an ONS `…CD` header.
    #[arg(long)]
    code_property: Option<String>,
    /// Kind crime: place every crime with coordinates, not only those without an LSOA.
    #[arg(long)]
    assign_all: bool,
    /// Print the server's answer as JSON.
    #[arg(long)]
    json: bool,
    /// The files of the version (CSV, CSV.gz, XLSX), sent as they are.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Runs `renewal upload`: Ok when the server published or found the files unchanged.
pub async fn run(args: &UploadArgs) -> Result<()> {
    let key = if args.no_key {
        None
    } else {
        let key = std::env::var(&args.key_env)
            .ok()
            .filter(|k| !k.trim().is_empty());
        Some(key.ok_or_else(|| {
            anyhow!(
                "set {} to the API key (or give --no-key for a development server)",
                args.key_env
            )
        })?)
    };
    let mut files: Vec<(PathBuf, bool)> = args.files.iter().map(|f| (f.clone(), false)).collect();
    files.extend(args.boundaries.iter().map(|f| (f.clone(), true)));
    for (path, _) in &files {
        if !path.is_file() {
            bail!("{}: not a file", path.display());
        }
    }
    let header = pb::UploadHeader {
        dataset_id: args.dataset.clone(),
        kind: args.kind.clone(),
        vintage: String::new(),
        period: args.period.clone().unwrap_or_default(),
        keep: args.keep.unwrap_or(0),
        code_property: args.code_property.clone().unwrap_or_default(),
        assign_all: args.assign_all,
    };
    let channel = tonic::transport::Endpoint::from_shared(args.server.clone())
        .with_context(|| format!("--server {}", args.server))?
        .connect()
        .await
        .with_context(|| format!("connecting to {}", args.server))?;
    let mut client = pb::ingest_client::IngestClient::new(channel)
        .max_decoding_message_size(16 << 20)
        .max_encoding_message_size(4 << 20);

    let (tx, rx) = tokio::sync::mpsc::channel::<pb::UploadChunk>(4);
    // A file that cannot be read halfway must not end the stream (that would commit a
    // truncated upload): the reader hands back its sender with the error, so the stream stays
    // open until the call is dropped, which cancels it and publishes nothing.
    let (failed_tx, failed_rx) =
        tokio::sync::oneshot::channel::<(anyhow::Error, tokio::sync::mpsc::Sender<_>)>();
    let reader = tokio::spawn(async move {
        match send_all(&tx, header, &files).await {
            Ok(()) => {}
            Err(e) => {
                let _ = failed_tx.send((e, tx));
            }
        }
    });
    let mut request = tonic::Request::new(tokio_stream::wrappers::ReceiverStream::new(rx));
    if let Some(key) = key {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", key.trim())
                .parse()
                .map_err(|_| anyhow!("{}: the key is not a valid header value", args.key_env))?,
        );
    }
    let mut call = Box::pin(client.upload(request));
    let answer = tokio::select! {
        r = &mut call => r,
        Ok((e, keep_open)) = failed_rx => {
            // Dropping the call cancels the stream; only then may the sender go.
            drop(call);
            drop(keep_open);
            return Err(e);
        }
    };
    reader.abort();
    let r = answer
        .map_err(|s| anyhow!("upload refused ({:?}): {}", s.code(), s.message()))?
        .into_inner();
    if args.json {
        let files: Vec<serde_json::Value> = r
            .files
            .iter()
            .map(|f| {
                serde_json::json!({
                    "file_name": f.file_name, "size": f.size, "sha256": f.sha256,
                    "boundaries": f.boundaries,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "status": r.status, "dataset": r.dataset, "version": r.version, "rows": r.rows,
                "files": files,
            })
        );
    } else {
        println!(
            "{}: {} version {} ({} rows) from {} file(s)",
            r.dataset,
            r.status,
            r.version,
            r.rows,
            r.files.len()
        );
        for f in &r.files {
            println!("  {}  {} bytes  sha256 {}", f.file_name, f.size, f.sha256);
        }
    }
    Ok(())
}

/// Streams the header, then each file in [`CHUNK`]-byte messages. Stops early, without
/// error, when the server has already answered (it refused the upload): its answer is the
/// result.
async fn send_all(
    tx: &tokio::sync::mpsc::Sender<pb::UploadChunk>,
    header: pb::UploadHeader,
    files: &[(PathBuf, bool)],
) -> Result<()> {
    // `false`: the call is over (the receiving end is gone).
    let send =
        |part: Part| async move { tx.send(pb::UploadChunk { part: Some(part) }).await.is_ok() };
    if !send(Part::Header(header)).await {
        return Ok(());
    }
    for (path, boundaries) in files {
        let started = send(Part::File(pb::UploadFile {
            file_name: file_name(path)?,
            boundaries: *boundaries,
        }))
        .await;
        if !started {
            return Ok(());
        }
        let mut file = tokio::fs::File::open(path)
            .await
            .with_context(|| path.display().to_string())?;
        loop {
            let mut buf = vec![0u8; CHUNK];
            let mut filled = 0;
            // Fill the chunk (reads may return less) so messages stay at 1 MiB.
            while filled < CHUNK {
                let n = file
                    .read(&mut buf[filled..])
                    .await
                    .with_context(|| path.display().to_string())?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 {
                break;
            }
            buf.truncate(filled);
            if !send(Part::Data(buf)).await {
                return Ok(());
            }
            if filled < CHUNK {
                break;
            }
        }
    }
    Ok(())
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("{}: no UTF-8 file name", path.display()))
}
