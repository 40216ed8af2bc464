//! Test-only: an adapter built against `allsync:adapter@0.2.0`, a contract
//! version the host does not implement. The host must refuse it at load.

wit_bindgen::generate!({ path: "wit", world: "plugin" });

use exports::allsync::adapter::adapter::{Error, Guest, Info, Rejected};

struct Future;

impl Guest for Future {
    fn describe() -> Info {
        Info {
            name: "future-contract".into(),
            version: "0.1.0".into(),
            description: "built for a newer host".into(),
            config: Vec::new(),
            hosts: Vec::new(),
            read_only: true,
        }
    }
    fn init(_config: Vec<(String, String)>) -> Result<(), Error> {
        Ok(())
    }
    fn get() -> Result<Vec<String>, Error> {
        Ok(Vec::new())
    }
    fn add(_things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        Ok(Vec::new())
    }
    fn remove(_things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        Ok(Vec::new())
    }
}

export!(Future);
