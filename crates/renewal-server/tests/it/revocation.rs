//! Keys revoked without a restart: the keys file is re-read when it changes (seen by the very
//! next request) and on SIGHUP; a revoked key gets UNAUTHENTICATED and no data, over gRPC and
//! Flight SQL alike; a keys file that no longer parses refuses every key.

use arrow_flight::sql::client::FlightSqlServiceClient;
use renewal_server::pb;
use tonic::Code;

use crate::*;

pub const REVOKED_KEY: &str = "soon-revoked-key";

/// The fixture's keys file plus one more key with every scope, which a test then revokes.
/// (A file of its own: `start` rewrites the fixture's.)
pub fn keys_with_revocable(dir: &Path) -> (PathBuf, String) {
    let original = std::fs::read_to_string(keys_file(dir)).unwrap();
    let path = dir.join("keys-revocable.toml");
    let with = format!(
        "{original}\n[[key]]\npartner = \"Soon revoked\"\nsha256 = \"{}\"\nwrite = true\nsql = true\n",
        hash_key(REVOKED_KEY)
    );
    replace_file(&path, &with);
    (path, original)
}

/// Replaces a file as editors and deploy tools do: write beside it, then rename over it.
pub fn replace_file(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn gap_request(key: &str) -> tonic::Request<pb::GapRequest> {
    authed(
        pb::GapRequest {
            indicator: "crime-all".into(),
            authority: VALE.into(),
            ..Default::default()
        },
        key,
    )
}

#[tokio::test]
async fn a_key_removed_from_the_file_is_refused_by_the_next_request() {
    let f = fixture().await;
    let (path, original) = keys_with_revocable(f.dir.path());
    let running = start(&f, |c| c.keys = Some(path.clone())).await;
    let store = running.keys().unwrap().clone();
    let ch = channel(&running).await;
    let (_, mut ana) = clients(&ch);
    let mut sql = FlightSqlServiceClient::new(ch.clone());
    sql.set_header("authorization", format!("Bearer {REVOKED_KEY}"));

    let before = collect(ana.area_gap(gap_request(REVOKED_KEY)).await)
        .await
        .unwrap();
    assert!(!before.rows.is_empty());
    let info = sql
        .execute("SELECT lsoa_code FROM iod_2019__lsoa".into(), None)
        .await
        .unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();

    replace_file(&path, &original);
    // No wait: the next request finds the file changed and reads it first.
    let refused = ana.area_gap(gap_request(REVOKED_KEY)).await;
    // (Read because the request found the file changed, or by a SIGHUP another test of this
    // process sent: either way before the request was answered.)
    assert!(store.reloads() >= 1);
    let (c, m) = code(refused);
    assert_eq!(c, Code::Unauthenticated, "{m}");
    // The ticket it obtained earlier is worth nothing now.
    let err = sql.do_get(ticket).await.err().unwrap();
    assert!(err.to_string().contains("unknown API key"), "{err}");
    let err = sql.execute("SELECT 1".into(), None).await.err().unwrap();
    assert!(err.to_string().contains("unknown API key"), "{err}");
    // Other keys are unaffected, and the file is not read again while unchanged.
    let seen = store.changes_seen();
    assert!(
        collect(ana.area_gap(gap_request(FULL_KEY)).await)
            .await
            .is_ok()
    );
    assert_eq!(store.changes_seen(), seen);

    // The explicit entry point (what SIGHUP calls) reads it unconditionally.
    let reloads = store.reloads();
    assert_eq!(running.reload_keys().unwrap(), 6);
    assert!(store.reloads() > reloads);
    assert_eq!(
        store.changes_seen(),
        seen,
        "an explicit reload is no change seen"
    );

    // A broken keys file fails closed: no key works until it is fixed.
    replace_file(
        &path,
        "[[key]]\npartner = \"oops\"\nsha256 = \"plain-text-key\"\n",
    );
    let (c, m) = code(ana.area_gap(gap_request(FULL_KEY)).await);
    assert_eq!(c, Code::Unavailable, "{m}");
    assert!(running.reload_keys().is_err());
    replace_file(&path, &original);
    assert!(
        collect(ana.area_gap(gap_request(FULL_KEY)).await)
            .await
            .is_ok()
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn sighup_rereads_the_keys_file() {
    let f = fixture().await;
    let (path, _) = keys_with_revocable(f.dir.path());
    let running = start(&f, |c| c.keys = Some(path.clone())).await;
    let store = running.keys().unwrap().clone();
    let mut reloaded = store.subscribe();
    assert_eq!(*reloaded.borrow_and_update(), 0);
    // The file is unchanged and no request is made: only the signal can cause a reload.
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // Waits on the reload notification itself; the timeout only turns a hang into a failure.
    tokio::time::timeout(std::time::Duration::from_secs(120), reloaded.changed())
        .await
        .expect("SIGHUP did not reload the keys")
        .unwrap();
    assert!(store.reloads() >= 1);
    running.stop().await.unwrap();
}
