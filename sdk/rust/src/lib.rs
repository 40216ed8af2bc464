//! Write [allsync](https://github.com/) adapters in Rust.
//!
//! An adapter is a type implementing [`Adapter`], exported with [`export!`]
//! and built for `wasm32-wasip2` as a `cdylib`. The SDK hides the generated
//! WIT bindings; [`http`] gives a small blocking HTTP client over `wasi:http`.
//!
//! ```ignore
//! use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, export};
//!
//! struct Static { things: Vec<String> }
//!
//! impl Adapter for Static {
//!     fn describe() -> Info {
//!         Info::new("static", env!("CARGO_PKG_VERSION"), "A fixed list")
//!             .key(ConfigKey::required("things", "comma-separated things"))
//!             .read_only()
//!     }
//!     fn init(config: Config) -> Result<Self, Error> {
//!         let things = config.require("things")?.split(',').map(String::from).collect();
//!         Ok(Static { things })
//!     }
//!     fn get(&mut self) -> Result<Vec<String>, Error> { Ok(self.things.clone()) }
//! }
//!
//! export!(Static);
//! ```

mod config;
pub mod http;
mod info;
mod outcome;

pub use config::Config;
pub use outcome::{Ledger, Outcome, message};

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "plugin-with-apply",
        pub_export_macro: true,
        export_macro_name: "__export_plugin",
        default_bindings_module: "allsync_sdk::bindings",
        generate_all,
    });
}

use bindings::allsync::adapter::types;

/// One config key an adapter understands.
pub use types::ConfigKey;
/// Why a whole call failed; the host reports the variant and message.
pub use types::Error;
/// What an adapter is: its name, config keys, the origins it needs.
pub use types::Info;
/// One thing `add` or `remove` could not apply, and why.
pub use types::Rejected;

/// An allsync adapter: reads a list of things and, unless read-only,
/// adds and removes things.
///
/// The host calls [`Adapter::describe`] without a config, then
/// [`Adapter::init`] once per adapter instance, then any of the other calls.
pub trait Adapter: Sized + 'static {
    /// Describes the adapter: name, version, config keys, origins, read-only.
    fn describe() -> Info;

    /// Builds the adapter from its config, validating every key.
    fn init(config: Config) -> Result<Self, Error>;

    /// Returns every thing currently in the list.
    fn get(&mut self) -> Result<Vec<String>, Error>;

    /// Adds things; returns those that could not be added, with a reason.
    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let _ = things;
        Err(read_only_error())
    }

    /// Removes things; returns those that could not be removed, with a reason.
    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let _ = things;
        Err(read_only_error())
    }

    /// Adds `add` and removes `remove` in one change, for services that
    /// take them together (a list written whole): the host calls it, when
    /// a plan has both, instead of `add` then `remove`. Returns the things
    /// of either list that could not be applied. By default it answers
    /// `unsupported`, and the host calls `add` and `remove`.
    fn apply(&mut self, add: Vec<String>, remove: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let _ = (add, remove);
        Err(Error::Unsupported(
            "this adapter applies additions and removals separately".to_string(),
        ))
    }
}

fn read_only_error() -> Error {
    Error::Unsupported("this adapter is read-only: use it as a source".to_string())
}

impl Rejected {
    /// A rejection of `thing` because of `reason`.
    pub fn new(thing: impl Into<String>, reason: impl Into<String>) -> Self {
        Rejected {
            thing: thing.into(),
            reason: reason.into(),
        }
    }
}

/// Exports a type implementing [`Adapter`] as the component's `adapter`
/// interface. Call it once, at the crate root of a `cdylib`.
#[macro_export]
macro_rules! export {
    ($adapter:ty) => {
        #[doc(hidden)]
        pub struct __AllsyncExports;

        impl $crate::bindings::exports::allsync::adapter::adapter::Guest for __AllsyncExports {
            fn describe() -> $crate::Info {
                <$adapter as $crate::Adapter>::describe()
            }
            fn init(config: ::std::vec::Vec<(String, String)>) -> Result<(), $crate::Error> {
                $crate::__private::init::<$adapter>(config)
            }
            fn get() -> Result<::std::vec::Vec<String>, $crate::Error> {
                $crate::__private::with::<$adapter, _>(|adapter| $crate::Adapter::get(adapter))
            }
            fn add(things: ::std::vec::Vec<String>) -> Result<::std::vec::Vec<$crate::Rejected>, $crate::Error> {
                $crate::__private::with::<$adapter, _>(|adapter| $crate::Adapter::add(adapter, things))
            }
            fn remove(things: ::std::vec::Vec<String>) -> Result<::std::vec::Vec<$crate::Rejected>, $crate::Error> {
                $crate::__private::with::<$adapter, _>(|adapter| $crate::Adapter::remove(adapter, things))
            }
        }

        impl $crate::bindings::exports::allsync::adapter::apply::Guest for __AllsyncExports {
            fn apply(
                add: ::std::vec::Vec<String>,
                remove: ::std::vec::Vec<String>,
            ) -> Result<::std::vec::Vec<$crate::Rejected>, $crate::Error> {
                $crate::__private::with::<$adapter, _>(|adapter| $crate::Adapter::apply(adapter, add, remove))
            }
        }

        $crate::bindings::__export_plugin!(__AllsyncExports with_types_in $crate::bindings);
    };
}

#[doc(hidden)]
pub mod __private {
    use super::{Adapter, Config, Error};
    use std::any::Any;
    use std::cell::RefCell;

    thread_local! {
        static INSTANCE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    }

    /// Builds the adapter from its config and keeps it for later calls.
    pub fn init<A: Adapter>(config: Vec<(String, String)>) -> Result<(), Error> {
        let adapter = A::init(Config::new(config))?;
        INSTANCE.with(|instance| *instance.borrow_mut() = Some(Box::new(adapter)));
        Ok(())
    }

    /// Runs `call` on the adapter built by `init`.
    pub fn with<A: Adapter, R>(call: impl FnOnce(&mut A) -> Result<R, Error>) -> Result<R, Error> {
        INSTANCE.with(|instance| {
            let mut instance = instance.borrow_mut();
            let adapter = instance
                .as_mut()
                .and_then(|adapter| adapter.downcast_mut::<A>())
                .ok_or_else(|| Error::Other("the host called the adapter before init".into()))?;
            call(adapter)
        })
    }
}
