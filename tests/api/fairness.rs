//! Fairness at the network edge (issue 30): anonymous clients cannot hold the slots
//! authenticated traffic needs, the sign-in form's body is bounded in size and time,
//! readiness reports saturation, and keep-alive connections survive what they should.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::backend_tests;
use crate::helpers::raw::{PATIENCE, host_port, stalled_upload, until_closed};
use crate::helpers::{Backend, TestApp, user_body};

/// A sign-in upload that sends its head and a few bytes of its body, then stalls.
async fn slow_sign_in(app: &TestApp) -> TcpStream {
    let mut stream = TcpStream::connect(host_port(app)).await.unwrap();
    stream
        .write_all(
            b"POST /admin/login HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ntoken=a",
        )
        .await
        .unwrap();
    stream
}

/// Read one response (head and a `Content-Length` body) from a kept-alive connection.
async fn one_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let read = tokio::time::timeout(PATIENCE, async {
        loop {
            let n = stream.read(&mut buffer).await.unwrap_or(0);
            received.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&received).into_owned();
            if n == 0 {
                return text;
            }
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if received.len() >= end + 4 + length {
                    return text;
                }
            }
        }
    })
    .await;
    read.expect("no answer on the connection")
}

/// Slots: 8 in all, 2 for anonymous requests.
const SLOTS: u32 = 8;
const ANONYMOUS_SLOTS: u32 = 2;
/// Slow sign-in uploads in flight at once: more than every slot.
const SLOW_UPLOADS: usize = 12;

async fn slow_anonymous_sign_in_uploads_leave_scim_answering(backend: Backend) {
    let app = TestApp::builder(backend)
        .settings(|s| {
            s.max_in_flight_requests = SLOTS;
            s.max_anonymous_in_flight_requests = ANONYMOUS_SLOTS;
            s.login_body_timeout_secs = 60;
        })
        .spawn()
        .await;
    let mut uploads = Vec::new();
    for _ in 0..SLOW_UPLOADS {
        uploads.push(slow_sign_in(&app).await);
    }
    // Once the anonymous slots are held, another anonymous request is refused.
    let mut held = false;
    for _ in 0..200 {
        if app.get_unauthenticated("/admin/login").await.status() == StatusCode::SERVICE_UNAVAILABLE {
            held = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(held, "the slow uploads never held the anonymous slots");

    let mut slowest = Duration::ZERO;
    for n in 0..20 {
        let started = Instant::now();
        let response = if n % 2 == 0 {
            app.get("/Users").await
        } else {
            app.post("/Users", &user_body(&format!("fair-{n}@acme.com")))
                .await
        };
        slowest = slowest.max(started.elapsed());
        assert!(
            response.status().is_success(),
            "SCIM answered {} while anonymous uploads were in flight",
            response.status()
        );
    }
    assert!(
        slowest < Duration::from_secs(1),
        "slowest SCIM answer: {slowest:?}"
    );
    let ready = app.get_unauthenticated("/readyz").await;
    assert_eq!(
        ready.status(),
        StatusCode::OK,
        "anonymous uploads do not make the server unready"
    );
    drop(uploads);
}

async fn readiness_reports_saturated_slots(backend: Backend) {
    let app = TestApp::builder(backend)
        .settings(|s| {
            s.max_in_flight_requests = 4;
            s.max_anonymous_in_flight_requests = 1;
        })
        .spawn()
        .await;
    assert_eq!(app.get_unauthenticated("/readyz").await.status(), StatusCode::OK);
    // 3 authenticated slots: hold them all.
    let mut stalled = Vec::new();
    for _ in 0..3 {
        stalled.push(stalled_upload(&app).await);
    }
    let mut saturated = None;
    for _ in 0..200 {
        let ready = app.get_unauthenticated("/readyz").await;
        if ready.status() == StatusCode::SERVICE_UNAVAILABLE {
            saturated = Some(ready.text().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let detail = saturated.expect("/readyz stayed ready with every slot taken");
    assert!(detail.contains("saturated: 3 of 3"), "{detail}");
    drop(stalled);
    let mut ready = false;
    for _ in 0..200 {
        if app.get_unauthenticated("/readyz").await.status() == StatusCode::OK {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(ready, "/readyz did not recover once the slots were free");
}

async fn the_sign_in_form_refuses_a_large_or_slow_body(backend: Backend) {
    let app = TestApp::builder(backend)
        .settings(|s| {
            s.login_max_body_bytes = 4096;
            s.login_body_timeout_secs = 1;
        })
        .spawn()
        .await;
    let large = app
        .client
        .post(format!("{}/admin/login", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={}", "a".repeat(5000)))
        .send()
        .await
        .unwrap();
    assert_eq!(large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A form within the bound is read and judged (no login cookie: refused, not 413).
    let small = app
        .client
        .post(format!("{}/admin/login", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=wrong&csrf=x")
        .send()
        .await
        .unwrap();
    assert!(
        ![StatusCode::PAYLOAD_TOO_LARGE, StatusCode::REQUEST_TIMEOUT].contains(&small.status()),
        "{}",
        small.status()
    );

    let started = Instant::now();
    let mut slow = slow_sign_in(&app).await;
    let answer = until_closed(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

async fn an_early_401_says_connection_close_and_the_next_request_succeeds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut stream = TcpStream::connect(host_port(&app)).await.unwrap();
    let body = format!("{{\"userName\":\"{}\"}}", "a".repeat(200_000));
    let request = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-token\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // The body may not all be taken: the server answers before reading it.
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.write_all(body.as_bytes())).await;
    let answer = one_response(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "an answer before the body was read must close the connection: {answer}"
    );

    // A keep-alive client sees no broken pipe: it opens a new connection for the next.
    let client = reqwest::Client::new();
    for n in 0..10 {
        let refused = client
            .post(format!("{}/Users", app.base()))
            .bearer_auth("wrong-token")
            .header("content-type", "application/scim+json")
            .body(body.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {n}: the early 401 failed: {e}"));
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        let next = client
            .get(format!("{}/Users", app.base()))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {n}: the request after an early 401 failed: {e}"));
        assert_eq!(next.status(), StatusCode::OK);
    }
}

async fn a_bodiless_request_keeps_its_connection_alive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut stream = TcpStream::connect(host_port(&app)).await.unwrap();
    for _ in 0..2 {
        let request = format!(
            "GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
            app.token
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let answer = one_response(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            !answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
    }
}

async fn a_keep_alive_connection_outlives_the_header_read_timeout(backend: Backend) {
    let app = TestApp::builder(backend)
        .settings(|s| {
            s.header_read_timeout_secs = 1;
            s.idle_timeout_secs = 60;
        })
        .spawn()
        .await;
    let mut stream = TcpStream::connect(host_port(&app)).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(one_response(&mut stream).await.starts_with("HTTP/1.1 200"));
    // Idle well past the header read timeout, far within the idle timeout.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let second = one_response(&mut stream).await;
    assert!(
        second.starts_with("HTTP/1.1 200"),
        "the kept-alive connection was closed while idle: {second:?}"
    );
    // A later head that is begun and never finished is still cut at the header timeout.
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    let answer = until_closed(&mut stream).await;
    assert!(!answer.contains(" 200 "), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

backend_tests!(
    slow_anonymous_sign_in_uploads_leave_scim_answering,
    readiness_reports_saturated_slots,
    the_sign_in_form_refuses_a_large_or_slow_body,
    an_early_401_says_connection_close_and_the_next_request_succeeds,
    a_bodiless_request_keeps_its_connection_alive,
    a_keep_alive_connection_outlives_the_header_read_timeout,
);
