//! A loopback HTTP server holding one list, for the `http-probe` test
//! adapter: `GET /` returns it as a JSON array, `POST /add` and
//! `POST /remove` take a JSON array. Every request needs
//! `Authorization: Bearer <token>`; a wrong token gets 401. Its controls
//! count every request, so a test can show that none arrived.

use crate::fakes::{Controls, bearer, serve};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// A running list server on 127.0.0.1.
#[derive(Clone)]
pub struct ListServer {
    pub addr: SocketAddr,
    token: Arc<str>,
    things: Arc<Mutex<Vec<String>>>,
    controls: Controls,
}

type Answer<T> = Result<Json<T>, (StatusCode, &'static str)>;

impl ListServer {
    /// Starts a server holding `things`, accepting `token`, on an ephemeral port.
    pub fn start(things: &[&str], token: &str) -> Self {
        let server = ListServer {
            addr: "127.0.0.1:0".parse().unwrap(),
            token: token.into(),
            things: Arc::new(Mutex::new(things.iter().map(|t| t.to_string()).collect())),
            controls: Controls::default(),
        };
        let router = Router::new()
            .route("/", get(list))
            .route("/add", post(add))
            .route("/remove", post(remove))
            .with_state(server.clone());
        let addr = serve(router, server.controls.clone(), "{}");
        ListServer { addr, ..server }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn things(&self) -> Vec<String> {
        self.things.lock().unwrap().clone()
    }

    pub fn requests(&self) -> usize {
        self.controls.requests().len()
    }

    fn authorize(&self, headers: &HeaderMap) -> Result<(), (StatusCode, &'static str)> {
        match bearer(headers) {
            Some(given) if given == &*self.token => Ok(()),
            _ => Err((StatusCode::UNAUTHORIZED, "invalid token")),
        }
    }
}

async fn list(State(server): State<ListServer>, headers: HeaderMap) -> Answer<Vec<String>> {
    server.authorize(&headers)?;
    Ok(Json(server.things()))
}

async fn add(
    State(server): State<ListServer>,
    headers: HeaderMap,
    Json(things): Json<Vec<String>>,
) -> Answer<Vec<String>> {
    server.authorize(&headers)?;
    server.things.lock().unwrap().extend(things);
    Ok(Json(Vec::new()))
}

async fn remove(
    State(server): State<ListServer>,
    headers: HeaderMap,
    Json(things): Json<Vec<String>>,
) -> Answer<Vec<String>> {
    server.authorize(&headers)?;
    server
        .things
        .lock()
        .unwrap()
        .retain(|thing| !things.contains(thing));
    Ok(Json(Vec::new()))
}
