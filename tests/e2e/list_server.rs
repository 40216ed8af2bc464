//! A loopback HTTP server holding one list, for the `http-probe` test
//! adapter: `GET /` returns it as a JSON array, `POST /add` and
//! `POST /remove` take a JSON array. Every request needs
//! `Authorization: Bearer <token>`; a wrong token gets 401. It counts every
//! request it receives, so a test can show that none arrived.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Inner {
    things: Vec<String>,
    requests: usize,
}

/// A running list server on 127.0.0.1.
#[derive(Clone)]
pub struct ListServer {
    pub addr: SocketAddr,
    token: Arc<str>,
    inner: Arc<Mutex<Inner>>,
}

type Shared = State<ListServer>;

impl ListServer {
    /// Starts a server holding `things`, accepting `token`, on an ephemeral port.
    pub fn start(things: &[&str], token: &str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let server = ListServer {
            addr: listener.local_addr().unwrap(),
            token: token.into(),
            inner: Arc::new(Mutex::new(Inner {
                things: things.iter().map(|t| t.to_string()).collect(),
                requests: 0,
            })),
        };
        let app = Router::new()
            .route("/", get(list))
            .route("/add", post(add))
            .route("/remove", post(remove))
            .with_state(server.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        server
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn things(&self) -> Vec<String> {
        self.inner.lock().unwrap().things.clone()
    }

    pub fn requests(&self) -> usize {
        self.inner.lock().unwrap().requests
    }

    fn authorize(&self, headers: &HeaderMap) -> Result<(), (StatusCode, &'static str)> {
        self.inner.lock().unwrap().requests += 1;
        let expected = format!("Bearer {}", self.token);
        match headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
        {
            Some(given) if given == expected => Ok(()),
            _ => Err((StatusCode::UNAUTHORIZED, "invalid token")),
        }
    }
}

async fn list(
    State(server): Shared,
    headers: HeaderMap,
) -> Result<Json<Vec<String>>, (StatusCode, &'static str)> {
    server.authorize(&headers)?;
    Ok(Json(server.things()))
}

async fn add(
    State(server): Shared,
    headers: HeaderMap,
    Json(things): Json<Vec<String>>,
) -> Result<Json<Vec<String>>, (StatusCode, &'static str)> {
    server.authorize(&headers)?;
    server.inner.lock().unwrap().things.extend(things);
    Ok(Json(Vec::new()))
}

async fn remove(
    State(server): Shared,
    headers: HeaderMap,
    Json(things): Json<Vec<String>>,
) -> Result<Json<Vec<String>>, (StatusCode, &'static str)> {
    server.authorize(&headers)?;
    server
        .inner
        .lock()
        .unwrap()
        .things
        .retain(|thing| !things.contains(thing));
    Ok(Json(Vec::new()))
}
