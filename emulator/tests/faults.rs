//! Fault mode over real HTTP: each fault as a client sees it, the fault log, and the
//! control's validation.

use ironclad_emulator::RunningEmulator;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common;

/// One HTTP/1.1 exchange on a fresh connection, read to EOF: (status line, headers, body).
async fn exchange(
    emu: &RunningEmulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head[9..12].parse().unwrap();
    (status, head, raw[split + 4..].to_vec())
}

async fn control(emu: &RunningEmulator, body: Value) -> (u16, Value) {
    let (status, _, body) = exchange(emu, "POST", "/_emulator/faults", &[], Some(&body)).await;
    (status, serde_json::from_slice(&body).unwrap())
}

async fn fault_log(emu: &RunningEmulator) -> Vec<Value> {
    let (_, _, body) = exchange(emu, "GET", "/_emulator/faults", &[], None).await;
    serde_json::from_slice::<Value>(&body)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

async fn token(emu: &RunningEmulator) -> String {
    let client = common::client(emu, "demo-client-credentials");
    let body = json!({
        "grant_type": "client_credentials", "client_id": client.client_id,
        "client_secret": client.client_secret, "scope": "public.workflows.readWorkflows",
    });
    let (status, _, body) = exchange(emu, "POST", "/oauth/token", &[], Some(&body)).await;
    assert_eq!(status, 200, "the token endpoint is never faulted");
    let body: Value = serde_json::from_slice(&body).unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

async fn only(emu: &RunningEmulator, kind: &str) {
    let (status, echo) = control(
        emu,
        json!({ "seed": 1, "rate": 1.0, "kinds": [kind], "retry_after_seconds": 3 }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(echo["kinds"], json!([kind]));
}

#[tokio::test]
async fn each_fault_as_a_client_sees_it() {
    let emu = ironclad_emulator::start(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let bearer = format!("Bearer {}", token(&emu).await);
    let user = emu.seed().users[0].email.clone();
    let auth = [
        ("authorization", bearer.as_str()),
        ("x-as-user-email", user.as_str()),
    ];
    let list = "/public/api/v1/workflows?pageSize=2";

    only(&emu, "rate_limited").await;
    let (status, head, body) = exchange(&emu, "GET", list, &auth, None).await;
    assert_eq!(status, 429);
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 3"),
        "{head}"
    );
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["code"], "RATE_LIMITED");

    only(&emu, "unavailable").await;
    assert_eq!(exchange(&emu, "GET", list, &auth, None).await.0, 503);

    only(&emu, "server_error").await;
    assert_eq!(exchange(&emu, "GET", list, &auth, None).await.0, 500);
    let log = fault_log(&emu).await;
    assert_eq!(log[0]["fault"], "server_error");
    assert_eq!(log[0]["handler_status"], 200, "the handler ran");

    only(&emu, "truncated_json").await;
    let (status, _, body) = exchange(&emu, "GET", list, &auth, None).await;
    assert_eq!(status, 200);
    assert!(!body.is_empty() && serde_json::from_slice::<Value>(&body).is_err());

    only(&emu, "dropped").await;
    let (status, head, body) = exchange(&emu, "GET", list, &auth, None).await;
    assert_eq!(status, 200);
    let declared: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_string)
        })
        .unwrap()
        .parse()
        .unwrap();
    assert!(body.len() < declared, "the connection dropped mid-body");

    only(&emu, "expired_token").await;
    assert_eq!(exchange(&emu, "GET", list, &auth, None).await.0, 401);
    let log = fault_log(&emu).await;
    assert_eq!(
        log[0]["handler_status"], 401,
        "authentication refused the token"
    );

    only(&emu, "slow").await;
    let bearer = format!("Bearer {}", token(&emu).await);
    let auth = [
        ("authorization", bearer.as_str()),
        ("x-as-user-email", user.as_str()),
    ];
    let started = std::time::Instant::now();
    assert_eq!(exchange(&emu, "GET", list, &auth, None).await.0, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(50));

    let (status, _) = control(&emu, json!({ "enabled": false })).await;
    assert_eq!(status, 200);
    assert_eq!(exchange(&emu, "GET", list, &auth, None).await.0, 200);
    assert!(
        fault_log(&emu).await.is_empty(),
        "off: nothing drawn or logged"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn the_control_names_what_is_wrong() {
    let emu = ironclad_emulator::start(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let (status, body) = control(&emu, json!({ "rate": 0.5 })).await;
    assert_eq!((status, body["param"].as_str()), (400, Some("seed")));
    let (status, body) = control(&emu, json!({ "seed": 3, "kinds": ["meteor"] })).await;
    assert_eq!((status, body["param"].as_str()), (400, Some("kinds")));
    assert!(body["message"].as_str().unwrap().contains("truncated_json"));
    emu.shutdown().await;
}
