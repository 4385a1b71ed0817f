//! HTTPS (issue 12): `--tls-cert`/`--tls-key` serve SCIM over TLS with HTTP/2 and
//! HTTP/1.1 offered through ALPN, checked with a certificate made by the test.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::AsyncBufReadExt;
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::{TlsConnector, rustls};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, TestDatabase};

/// A self-signed certificate for 127.0.0.1 and localhost, written as PEM files.
struct Certificate {
    dir: tempfile::TempDir,
    der: CertificateDer<'static>,
}

impl Certificate {
    fn make() -> Certificate {
        let made =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cert.pem"), made.cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), made.signing_key.serialize_pem()).unwrap();
        Certificate {
            dir,
            der: made.cert.der().clone(),
        }
    }
    fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }
    fn key(&self) -> PathBuf {
        self.dir.path().join("key.pem")
    }

    /// A TLS client that trusts only this certificate and offers one ALPN protocol.
    fn connector(&self, alpn: &[u8]) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.der.clone()).unwrap();
        #[expect(deprecated, reason = "the server's provider, see src/server.rs")]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![alpn.to_vec()];
        TlsConnector::from(Arc::new(config))
    }
}

/// `GET path` over TLS with the protocol ALPN settled on; the status and JSON body.
async fn get_over_tls(
    app: &TestApp,
    certificate: &Certificate,
    alpn: &[u8],
    path: &str,
) -> (StatusCode, Value) {
    let (status, _, body) = send_over_tls(app, certificate, alpn, path).await;
    (status, serde_json::from_slice(&body).unwrap())
}

/// `GET path` over TLS: the status, headers and body.
async fn send_over_tls(
    app: &TestApp,
    certificate: &Certificate,
    alpn: &[u8],
    path: &str,
) -> (StatusCode, hyper::HeaderMap, axum::body::Bytes) {
    let port = app.address.rsplit(':').next().unwrap();
    let request = Request::get(format!("https://127.0.0.1:{port}{path}"))
        .header("authorization", format!("Bearer {}", app.token))
        .header("host", format!("127.0.0.1:{port}"))
        .body(Body::empty())
        .unwrap();
    exchange_over_tls(app, certificate, alpn, request).await
}

/// Send `request` over TLS: the status, headers and body.
async fn exchange_over_tls(
    app: &TestApp,
    certificate: &Certificate,
    alpn: &[u8],
    request: Request<Body>,
) -> (StatusCode, hyper::HeaderMap, axum::body::Bytes) {
    let port = app.address.rsplit(':').next().unwrap();
    let tcp = TcpStream::connect(format!("127.0.0.1:{port}")).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let tls = certificate
        .connector(alpn)
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(alpn), "ALPN");
    let io = TokioIo::new(tls);
    let response = if alpn == b"h2" {
        let (mut sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .unwrap();
        tokio::spawn(connection);
        sender.send_request(request).await.unwrap()
    } else {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(connection);
        sender.send_request(request).await.unwrap()
    };
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(Body::new(response.into_body()), 1 << 20)
        .await
        .unwrap();
    (status, headers, body)
}

async fn scim_over_https_with_http2_and_http1(backend: Backend) {
    let certificate = Certificate::make();
    let (cert, key) = (certificate.cert(), certificate.key());
    let app = TestApp::builder(backend)
        .settings(move |s| {
            s.tls_cert = Some(cert);
            s.tls_key = Some(key);
        })
        .spawn()
        .await;
    assert!(app.address.starts_with("https://"), "{}", app.address);
    for alpn in [&b"h2"[..], b"http/1.1"] {
        let (status, list) = get_over_tls(&app, &certificate, alpn, "/scim/v2/Users").await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list["totalResults"], 0, "{list}");
        let (status, config) = get_over_tls(&app, &certificate, alpn, "/scim/v2/ServiceProviderConfig").await;
        assert_eq!(status, StatusCode::OK, "{config}");
    }
    // The Account Center over TLS: HSTS, and cookies only for HTTPS.
    let (status, headers, _) = send_over_tls(&app, &certificate, b"http/1.1", "/admin/login").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["strict-transport-security"], "max-age=31536000");
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("lscim_login=") && cookie.contains("Secure"),
        "{cookie}"
    );
    // A browser signs in over HTTP/2: `:authority`, no `Host`, and its own `Origin`,
    // which the Account Center takes for the same origin. Another origin is refused.
    let port = app.address.rsplit(':').next().unwrap().to_owned();
    let (_, form, page) = send_over_tls(&app, &certificate, b"h2", "/admin/login").await;
    let login_cookie = form["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = crate::ui::csrf_of(std::str::from_utf8(&page).unwrap());
    let sign_in = |origin: String| {
        Request::post(format!("https://127.0.0.1:{port}/admin/login"))
            .header("origin", origin)
            .header("cookie", &login_cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={}&csrf={csrf}", app.admin_token)))
            .unwrap()
    };
    let foreign = sign_in("https://127.0.0.1:1".to_owned());
    let (status, _, _) = exchange_over_tls(&app, &certificate, b"h2", foreign).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another origin");
    let own = sign_in(format!("https://127.0.0.1:{port}"));
    let (status, headers, body) = exchange_over_tls(&app, &certificate, b"h2", own).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let session = headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("lscim_session="))
        .expect("a session cookie");
    assert!(
        session.starts_with("lscim_session=") && session.contains("Secure"),
        "{session}"
    );
    assert_eq!(headers["strict-transport-security"], "max-age=31536000");
    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(app.address.replace("https://", "http://") + "/healthz")
        .send()
        .await;
    assert!(plain.is_err() || plain.is_ok_and(|r| r.status() != StatusCode::OK));
}

async fn a_silent_client_on_the_tls_port_is_cut_off(backend: Backend) {
    use tokio::io::AsyncReadExt;
    let certificate = Certificate::make();
    let (cert, key) = (certificate.cert(), certificate.key());
    let app = TestApp::builder(backend)
        .settings(move |s| {
            s.tls_cert = Some(cert);
            s.tls_key = Some(key);
            s.header_read_timeout_secs = 1;
        })
        .spawn()
        .await;
    let port = app.address.rsplit(':').next().unwrap();
    let mut silent = TcpStream::connect(format!("127.0.0.1:{port}")).await.unwrap();
    let (status, _) = get_over_tls(&app, &certificate, b"h2", "/scim/v2/Users").await;
    assert_eq!(status, StatusCode::OK, "served while a silent client waits");
    let mut received = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(30), silent.read_to_end(&mut received)).await;
    assert!(
        closed.is_ok(),
        "a client that never starts its TLS handshake keeps its connection"
    );
}

async fn the_banner_prints_https_urls_when_tls_is_on(backend: Backend) {
    let certificate = Certificate::make();
    let database = TestDatabase::create(backend).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_linkedin-scim"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LINKEDIN_SCIM_CONFIG", "/nonexistent/linkedin-scim.toml")
        .env("LINKEDIN_SCIM_DATABASE_URL", &database.url)
        .env("LINKEDIN_SCIM_BIND", "127.0.0.1:0")
        .env("LINKEDIN_SCIM_TLS_CERT", certificate.cert())
        .env("LINKEDIN_SCIM_TLS_KEY", certificate.key())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run the binary");
    let mut banner = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // Log records may come first (a slow migration lock on a loaded machine warns).
    let mut first = String::new();
    while !first.contains("listening on") {
        first = banner.next_line().await.unwrap().expect("a banner");
    }
    let second = banner.next_line().await.unwrap().expect("a tenant URL line");
    assert!(first.contains("listening on https://127.0.0.1:"), "{first}");
    assert!(
        second.contains("https://127.0.0.1:") && second.contains("/scim/v2"),
        "{second}"
    );
    assert!(!first.contains("http://") && !second.contains("http://"));
    child.kill().await.unwrap();
}

backend_tests!(
    scim_over_https_with_http2_and_http1,
    a_silent_client_on_the_tls_port_is_cut_off,
    the_banner_prints_https_urls_when_tls_is_on,
);
