//! What an adapter instance may touch: the store state behind each instance.
//!
//! By default an instance has no filesystem, no environment variables, no
//! arguments, no sockets, no stdin or stdout; its stderr goes to the host's
//! log prefixed with its name (secrets redacted). Clocks and randomness are
//! available. Outbound HTTP goes through [`OutboundPolicy`]. A directory is
//! preopened only when the config grants one. Memory is held to the
//! instance's [`Limits`].

use super::activity::Activity;
use super::grants::Grants;
use super::limits::{Limits, MemoryLimiter};
use super::outbound::OutboundPolicy;
use super::route::Incidents;
use super::secrets::Secrets;
use allsync_engine::text::one_line;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The most bytes of one stderr line kept before it is logged anyway.
const MAX_LOG_LINE: usize = 8 * 1024;

/// The store state of one adapter instance.
pub(crate) struct Sandbox {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    pub(crate) outbound: OutboundPolicy,
    pub(crate) memory: MemoryLimiter,
}

impl Sandbox {
    /// A sandbox for the instance `label` with exactly `grants`, within `limits`.
    pub(crate) fn new(
        label: &str,
        grants: &Grants,
        limits: &Limits,
        secrets: Secrets,
        incidents: Incidents,
        activity: Activity,
    ) -> io::Result<Self> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.stderr(AdapterLog {
            label: label.into(),
            secrets,
        })
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
        if let Some(directory) = &grants.directory {
            let perms = match directory.writable {
                true => FsPerms::ReadWrite,
                false => FsPerms::ReadOnly,
            };
            wasi.preopened_dir(&directory.path, "/", perms)
                .map_err(|err| {
                    io::Error::other(format!("cannot open {}: {err}", directory.path.display()))
                })?;
        }
        Ok(Sandbox {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            outbound: OutboundPolicy::new(label, grants, limits, incidents, activity),
            memory: MemoryLimiter::new(limits.memory_bytes()),
        })
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Sandbox {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// An adapter's stderr: each line goes to the host log, prefixed and redacted.
struct AdapterLog {
    label: String,
    secrets: Secrets,
}

impl IsTerminal for AdapterLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for AdapterLog {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineLogger {
            label: self.label.clone(),
            secrets: self.secrets.clone(),
            pending: Vec::new(),
        })
    }
}

struct LineLogger {
    label: String,
    secrets: Secrets,
    pending: Vec<u8>,
}

impl LineLogger {
    fn emit(&self, line: &[u8]) {
        let line = one_line(&self.secrets.redact(&String::from_utf8_lossy(line)));
        tracing::info!(target: "allsync::adapter", "[{}] {line}", self.label);
    }

    /// Logs each complete line; a line grown past [`MAX_LOG_LINE`] is logged
    /// in pieces, cut where no secret is split.
    fn emit_complete_lines(&mut self) {
        while let Some(end) = self.pending.iter().position(|&byte| byte == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            self.emit(&line[..end]);
        }
        if self.pending.len() > MAX_LOG_LINE {
            let cut = match self.secrets.safe_cut(&self.pending, self.pending.len()) {
                0 => self.pending.len(),
                cut => char_start(&self.pending, cut),
            };
            let piece: Vec<u8> = self.pending.drain(..cut).collect();
            self.emit(&piece);
        }
    }
}

/// `at`, or the start of the UTF-8 character it falls inside (never 0, so a piece is never empty).
fn char_start(bytes: &[u8], mut at: usize) -> usize {
    while at > 1 && bytes.get(at).is_some_and(|byte| byte & 0xC0 == 0x80) {
        at -= 1;
    }
    at
}

impl AsyncWrite for LineLogger {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.pending.extend_from_slice(bytes);
        self.emit_complete_lines();
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line);
        }
        Poll::Ready(Ok(()))
    }
}
