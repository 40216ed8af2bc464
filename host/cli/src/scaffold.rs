//! `allsync new`: a new adapter project in Rust, Python, JavaScript or C,
//! from templates built into the binary (`sdk/templates/`), with the WIT
//! contract, the language's SDK, a build script and a test script. The
//! project depends on nothing but the language's own tools.

use std::path::{Path, PathBuf};

/// A language allsync can scaffold an adapter in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    /// Rust, with the allsync-sdk crate (vendored into the project).
    Rust,
    /// Python, with componentize-py.
    Python,
    /// JavaScript (ES modules), with componentize-js.
    #[value(alias = "js")]
    Javascript,
    /// C, with clang and wasi-libc.
    C,
}

/// Why a project could not be created.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The name is not usable as an adapter name.
    #[error(
        "`{0}` is not a usable adapter name: use lower-case letters, digits and dashes, starting with a letter"
    )]
    Name(String),
    /// The folder exists already.
    #[error("{0} exists already: choose another name or --dir")]
    Exists(PathBuf),
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One file of a template: where it goes, and what it holds.
struct Template {
    path: &'static str,
    contents: &'static [u8],
}

macro_rules! template {
    ($path:literal, $source:literal) => {
        Template {
            path: $path,
            contents: include_bytes!(concat!("../../../", $source)),
        }
    };
}

/// The WIT contract and the WASI packages it uses.
const WIT: &[Template] = &[
    template!("wit/adapter.wit", "wit/adapter.wit"),
    template!("wit/deps/cli.wit", "wit/deps/cli.wit"),
    template!("wit/deps/clocks.wit", "wit/deps/clocks.wit"),
    template!("wit/deps/filesystem.wit", "wit/deps/filesystem.wit"),
    template!("wit/deps/http.wit", "wit/deps/http.wit"),
    template!("wit/deps/io.wit", "wit/deps/io.wit"),
    template!("wit/deps/random.wit", "wit/deps/random.wit"),
    template!("wit/deps/sockets.wit", "wit/deps/sockets.wit"),
];

const RUST: &[Template] = &[
    template!("Cargo.toml", "sdk/templates/rust/Cargo.toml"),
    template!("src/lib.rs", "sdk/templates/rust/src/lib.rs"),
    template!("build.sh", "sdk/templates/rust/build.sh"),
    template!("test.sh", "sdk/templates/rust/test.sh"),
    template!("vendor/allsync-sdk/Cargo.toml", "sdk/rust/Cargo.toml"),
    template!("vendor/allsync-sdk/src/lib.rs", "sdk/rust/src/lib.rs"),
    template!("vendor/allsync-sdk/src/config.rs", "sdk/rust/src/config.rs"),
    template!("vendor/allsync-sdk/src/http.rs", "sdk/rust/src/http.rs"),
    template!("vendor/allsync-sdk/src/info.rs", "sdk/rust/src/info.rs"),
    template!(
        "vendor/allsync-sdk/src/outcome.rs",
        "sdk/rust/src/outcome.rs"
    ),
];

const PYTHON: &[Template] = &[
    template!("app.py", "sdk/templates/python/app.py"),
    template!("allsync_sdk.py", "sdk/python/allsync_sdk.py"),
    template!("build.sh", "sdk/templates/python/build.sh"),
    template!("test.sh", "sdk/templates/python/test.sh"),
];

const JAVASCRIPT: &[Template] = &[
    template!("app.js", "sdk/templates/js/app.js"),
    template!("allsync-sdk.js", "sdk/js/allsync-sdk.js"),
    template!("package.json", "sdk/templates/js/package.json"),
    template!("build.sh", "sdk/templates/js/build.sh"),
    template!("test.sh", "sdk/templates/js/test.sh"),
];

const C: &[Template] = &[
    template!("app.c", "sdk/templates/c/app.c"),
    template!("allsync.h", "sdk/c/allsync.h"),
    template!("gen/plugin.c", "sdk/c/gen/plugin.c"),
    template!("gen/plugin.h", "sdk/c/gen/plugin.h"),
    template!(
        "gen/plugin_component_type.o",
        "sdk/c/gen/plugin_component_type.o"
    ),
    template!("build.sh", "sdk/templates/c/build.sh"),
    template!("test.sh", "sdk/templates/c/test.sh"),
];

/// Creates the project for adapter `name` in `parent/name`; returns its folder.
pub fn scaffold(language: Language, name: &str, parent: &Path) -> Result<PathBuf, ScaffoldError> {
    let usable = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !usable {
        return Err(ScaffoldError::Name(name.to_string()));
    }
    let root = parent.join(name);
    if root.exists() {
        return Err(ScaffoldError::Exists(root));
    }
    let files = match language {
        Language::Rust => RUST,
        Language::Python => PYTHON,
        Language::Javascript => JAVASCRIPT,
        Language::C => C,
    };
    for template in WIT.iter().chain(files) {
        write(&root, template, name)?;
    }
    Ok(root)
}

fn write(root: &Path, template: &Template, name: &str) -> Result<(), ScaffoldError> {
    let path = root.join(template.path);
    let failed = |source| ScaffoldError::Write {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(path.parent().expect("template paths have a folder"))
        .map_err(failed)?;
    let contents = match std::str::from_utf8(template.contents) {
        Ok(text) => fill(text, name).into_bytes(),
        Err(_) => template.contents.to_vec(),
    };
    std::fs::write(&path, contents).map_err(failed)?;
    if template.path.ends_with(".sh") {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(failed)?;
    }
    Ok(())
}

/// Fills in a template's `{{name}}` and `{{crate}}`, and unhooks the vendored
/// SDK from this repository's workspace.
fn fill(text: &str, name: &str) -> String {
    text.replace("{{name}}", name)
        .replace("{{crate}}", &name.replace('-', "_"))
        .replace("workspace = \"../../plugins\"\n", "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_adapter_names() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["Roster", "9lives", "my_adapter", "", "a b"] {
            assert!(
                matches!(
                    scaffold(Language::Python, bad, dir.path()),
                    Err(ScaffoldError::Name(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_project_gets_the_contract_the_sdk_and_scripts_with_its_name_filled_in() {
        let dir = tempfile::tempdir().unwrap();
        let root = scaffold(Language::Rust, "my-roster", dir.path()).unwrap();
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"my-roster\""));
        let build = std::fs::read_to_string(root.join("build.sh")).unwrap();
        assert!(build.contains("release/my_roster.wasm"));
        let sdk = std::fs::read_to_string(root.join("vendor/allsync-sdk/Cargo.toml")).unwrap();
        assert!(
            !sdk.contains("workspace ="),
            "the vendored SDK must not point into this repository"
        );
        assert!(root.join("wit/deps/http.wit").exists());
        assert!(matches!(
            scaffold(Language::Rust, "my-roster", dir.path()),
            Err(ScaffoldError::Exists(_))
        ));
    }
}
