//! Test-only: an adapter that imports `acme:vault/secrets`, which the host
//! does not provide. The host must refuse it at load, not trap mid-sync.

wit_bindgen::generate!({ path: "wit", world: "plugin", generate_all });

use exports::allsync::adapter::adapter::{Error, Guest, Info, Rejected};

struct Greedy;

impl Guest for Greedy {
    fn describe() -> Info {
        Info {
            name: "unknown-import".into(),
            version: "0.1.0".into(),
            description: "wants a vault".into(),
            config: Vec::new(),
            hosts: Vec::new(),
            read_only: true,
        }
    }
    fn init(_config: Vec<(String, String)>) -> Result<(), Error> {
        Ok(())
    }
    fn get() -> Result<Vec<String>, Error> {
        Ok(vec![acme::vault::secrets::reveal("root")])
    }
    fn add(_things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        Ok(Vec::new())
    }
    fn remove(_things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        Ok(Vec::new())
    }
}

export!(Greedy);
