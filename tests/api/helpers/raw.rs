//! Raw TCP clients for the network-edge tests: a half-sent upload, reading until the
//! server closes.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::TestApp;

/// Generous bound on anything the server is expected to do by itself (close a
/// connection after a 1 s timeout); reaching it means the behaviour is missing.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The app's `host:port`.
pub fn host_port(app: &TestApp) -> String {
    app.address
        .rsplit("://")
        .next()
        .expect("address has a scheme")
        .to_owned()
}

/// Read until the server closes the connection; what it sent before closing.
pub async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&received).into_owned()
}

/// A SCIM create whose body never finishes: it stays in flight on the server.
pub async fn stalled_upload(app: &TestApp) -> TcpStream {
    let mut stream = TcpStream::connect(host_port(app)).await.unwrap();
    let head = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: 1000\r\n\r\n{{\"userName\":",
        app.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}
