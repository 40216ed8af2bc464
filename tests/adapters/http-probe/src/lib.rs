//! Test-only adapter: a list held by an HTTP server (`GET <url>` returns a
//! JSON array of strings; `POST <url>/add` and `POST <url>/remove` take one).
//!
//! It is deliberately careless with its secret `token`: it prints it to
//! stderr at init and echoes it in errors, so the tests can show that the
//! host redacts secrets from everything an adapter says.

use allsync_sdk::http::Request;
use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Rejected, export};

struct HttpProbe {
    url: String,
    token: String,
}

impl Adapter for HttpProbe {
    fn describe() -> Info {
        Info::new(
            "http-probe",
            env!("CARGO_PKG_VERSION"),
            "Test adapter: a list behind HTTP",
        )
        .key(ConfigKey::required("url", "where the list lives"))
        .key(ConfigKey::required("token", "bearer token").secret())
    }

    fn init(config: Config) -> Result<Self, Error> {
        let token = config.require("token")?.to_string();
        eprintln!("starting with token {token}");
        Ok(HttpProbe {
            url: config.require("url")?.trim_end_matches('/').to_string(),
            token,
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        self.check(Request::get(&self.url).bearer(&self.token).send()?)?
            .json()
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        self.post("add", &things)
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        self.post("remove", &things)
    }
}

impl HttpProbe {
    fn post(&self, action: &str, things: &[String]) -> Result<Vec<Rejected>, Error> {
        let url = format!("{}/{action}", self.url);
        self.check(
            Request::post(&url)
                .bearer(&self.token)
                .json(things)?
                .send()?,
        )?;
        Ok(Vec::new())
    }

    fn check(
        &self,
        response: allsync_sdk::http::Response,
    ) -> Result<allsync_sdk::http::Response, Error> {
        if response.status == 401 {
            return Err(Error::Unauthorized(format!(
                "token {} was refused",
                self.token
            )));
        }
        response.success("http-probe")
    }
}

export!(HttpProbe);
