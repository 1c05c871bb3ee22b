//! A heartbeat endpoint on 127.0.0.1 that answers 200 to every request and keeps what
//! it saw, for the tests of `ping_url`.

use std::sync::{Arc, Mutex};

/// Each request the endpoint saw: method, path, body.
pub type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

/// Starts the endpoint; returns its base URL and what it will see.
pub fn ping_server() -> (String, Seen) {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("ping server");
    let url = format!("http://{}", server.server_addr());
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut req in server.incoming_requests() {
            let mut body = String::new();
            let _ = req.as_reader().read_to_string(&mut body);
            log.lock()
                .unwrap()
                .push((req.method().to_string(), req.url().to_string(), body));
            let _ = req.respond(tiny_http::Response::from_string("OK"));
        }
    });
    (url, seen)
}

/// What the endpoint has seen so far.
pub fn seen(s: &Seen) -> Vec<(String, String, String)> {
    s.lock().unwrap().clone()
}
