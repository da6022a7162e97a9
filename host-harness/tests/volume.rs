//! Long reads and what calls cost: list actions one page per call behind a cursor, the host
//! driving a 10,000-record read while the guest holds one page, the guest's memory as the
//! host measures it, and the natively compiled connector answering exactly like the component.

use crate::common;

use std::ops::ControlFlow;

use common::*;
use host_harness::native::ExecuteNative;
use serde_json::{Value, json};

async fn add_bulk_records(emu: &host_harness::emulator::RunningEmulator, count: u64) -> u64 {
    let url = format!("{}/_emulator/bulk-records", emu.base_url());
    let answer: Value = reqwest::Client::new()
        .post(url)
        .json(&json!({ "count": count }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["records"].as_u64().expect("the new total")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_actions_read_one_page_per_call_with_a_cursor() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "cursor").await;
    admin(&emu, "reset-request-log").await;

    // `""` starts; max_items sets the page size for the whole read.
    let first = session
        .execute("list_workflows", &json!({ "cursor": "", "max_items": 20 }))
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 20);
    let total = first["count"].as_u64().unwrap();
    assert!(total > 20, "more than one page: {total}");
    assert!(first.get("truncated").is_none());
    let mut ids: Vec<Value> = first["items"].as_array().unwrap().clone();
    let mut next = first["next"].as_str().unwrap().to_string();
    let mut calls = 1;
    while !next.is_empty() {
        // The cursor keeps the first call's page size whatever max_items says now.
        let page = session
            .execute("list_workflows", &json!({ "cursor": next, "max_items": 3 }))
            .await
            .unwrap();
        calls += 1;
        ids.extend(page["items"].as_array().unwrap().iter().cloned());
        next = page["next"].as_str().unwrap_or_default().to_string();
    }
    assert_eq!(calls, total.div_ceil(20));
    let mut unique: Vec<&str> = ids.iter().map(|w| w["id"].as_str().unwrap()).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len() as u64, total);
    let targets: Vec<String> = api_calls(&emu)
        .await
        .iter()
        .map(|r| r["query"].as_str().unwrap_or_default().to_string())
        .collect();
    let expected: Vec<String> = (0..calls)
        .map(|page| format!("page={page}&pageSize=20"))
        .collect();
    assert_eq!(targets, expected);

    // Anything but `""` or a `next` is refused before any request.
    admin(&emu, "reset-request-log").await;
    for bad in [json!("2"), json!("2:500"), json!("two:20")] {
        let e = report(
            session
                .execute("list_workflows", &json!({ "cursor": bad }))
                .await
                .unwrap_err(),
        );
        assert_eq!(
            (e["kind"].as_str(), e["field"].as_str()),
            (Some("invalid_input"), Some("/cursor")),
            "{e}"
        );
    }
    let e = report(
        session
            .execute("list_workflows", &json!({ "cursor": 3 }))
            .await
            .unwrap_err(),
    );
    assert_eq!(e["field"], "/cursor");
    assert!(api_calls(&emu).await.is_empty());
    assert!(contract_violations(&emu).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_streams_a_long_read_while_the_guest_holds_one_page() {
    let emu = start_emulator().await;
    let total = add_bulk_records(&emu, 10_000).await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "stream").await;

    let mut streamed = 0u64;
    let mut largest_page = 0usize;
    let read = session
        .read_pages("list_records", &json!({}), |items| {
            streamed += items.len() as u64;
            largest_page = largest_page.max(items.len());
            ControlFlow::Continue(())
        })
        .await
        .unwrap();
    let pages = total.div_ceil(100);
    assert_eq!(
        (read.items, streamed, read.count),
        (total, total, Some(total))
    );
    assert_eq!((read.pages as u64, read.requests as u64), (pages, pages));
    assert_eq!(
        (largest_page, read.next.as_deref(), read.rate_limited),
        (100, None, 0)
    );

    // The same listing in one call: the guest holds all of it.
    let (all, whole) = session
        .execute_measured("list_records", &json!({ "max_items": 20_000 }))
        .await;
    let all = all.unwrap();
    assert_eq!(all["items"].as_array().unwrap().len() as u64, total);
    assert_eq!(whole.requests.requests as u64, pages);
    assert!(
        read.peak_memory < 8 << 20 && whole.peak_memory > 4 * read.peak_memory,
        "one page {} bytes, everything {} bytes",
        read.peak_memory,
        whole.peak_memory
    );

    // A sink may stop the read; the summary says where to resume.
    let stopped = session
        .read_pages("list_records", &json!({ "max_items": 10 }), |_| {
            ControlFlow::Break(())
        })
        .await
        .unwrap();
    assert_eq!((stopped.pages, stopped.items), (1, 10));
    // The cursor is the connector's, opaque and bound to its action: resumed as given.
    let next = stopped.next.clone().expect("a cursor to resume from");
    let resumed = session
        .read_pages("list_records", &json!({ "cursor": next }), |_| {
            ControlFlow::Break(())
        })
        .await
        .unwrap();
    let after = resumed.next.expect("a further cursor");
    assert_ne!(after, next, "the read moved on by one page");

    // Only list actions take a cursor.
    let e = session
        .read_pages("retrieve_workflow", &json!({ "id": "IC-1" }), |_| {
            ControlFlow::Continue(())
        })
        .await
        .unwrap_err();
    assert_eq!(report(e)["field"], "/cursor");
    assert!(contract_violations(&emu).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_native_connector_answers_like_the_component() {
    let emu = start_emulator().await;
    let rt = runtime();
    let session = session_in(&rt, &emu, "native").await;
    let cases = [
        ("retrieve_workflow", json!({ "id": "IC-1" })),
        (
            "list_workflows",
            json!({ "max_items": 30, "status": "active" }),
        ),
        ("list_records", json!({ "cursor": "", "max_items": 2 })),
        ("retrieve_workflow", json!({ "id": "IC-999999" })),
        ("retrieve_workflow", json!({})),
        ("no_such_action", json!({})),
    ];
    for (action, input) in cases {
        let component = session.execute(action, &input).await.map_err(report);
        let native = session.execute_native(action, &input).await.map_err(report);
        assert_eq!(component, native, "{action} {input}");
    }
    admin(&emu, "reset-request-log").await;
    session
        .execute_native("retrieve_workflow", &json!({ "id": "IC-1" }))
        .await
        .unwrap();
    let log = api_calls(&emu).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["path"], "/public/api/v1/workflows/IC-1");
    assert!(contract_violations(&emu).await.is_empty());
    emu.shutdown().await;
}
