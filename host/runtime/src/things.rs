//! The list `get` returns, lifted out of the adapter with the instance's
//! limits checked as it is copied: the count before anything is copied, the
//! bytes after each thing. A flood of things is refused having cost the
//! host next to nothing, rather than counted once it sits in host memory.
//!
//! wasmtime frees a call's results in the guest (post-return) as soon as
//! they are lifted, so the check must happen inside the lift: [`Things`]
//! lifts `list<string>` itself, and reads the limits of the call being made
//! on this thread, set by [`with_limits`] around every poll of that call.

use std::cell::Cell;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasmtime::ValRaw;
use wasmtime::component::__internal::{CanonicalAbiInfo, InstanceType, InterfaceType, LiftContext};
use wasmtime::component::{ComponentType, Lift};

/// The most things, and bytes of things, one `get` may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ThingLimits {
    /// Things.
    pub count: u64,
    /// Bytes of all the things together.
    pub bytes: u64,
}

thread_local! {
    /// The limits of the `get` whose results are being lifted on this thread.
    static LIMITS: Cell<Option<ThingLimits>> = const { Cell::new(None) };
}

/// A list that broke a limit while it was being lifted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Overflow {
    /// More things than allowed.
    #[error("get returned {count} things, over limits.max_things = {max}")]
    Count {
        /// How many things the list holds.
        count: u64,
        /// The limit.
        max: u64,
    },
    /// More bytes of things than allowed.
    #[error(
        "get returned more than limits.max_things_bytes = {max} bytes of things \
         ({counted} counted when it was stopped)"
    )]
    Bytes {
        /// The bytes counted when the limit was passed.
        counted: u64,
        /// The limit.
        max: u64,
    },
}

/// What `get` returned: `list<string>`, lifted within the limits in force.
pub(crate) struct Things(pub Vec<String>);

// SAFETY: the same representation as `Vec<String>` (`list<string>`: a
// pointer and a length), which the type check below requires.
unsafe impl ComponentType for Things {
    type Lower = [ValRaw; 2];
    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        <Vec<String> as ComponentType>::typecheck(ty, types)
    }
}

// SAFETY: every read of guest memory is bounds-checked, and each string is
// lifted by wasmtime's own `String` lift.
unsafe impl Lift for Things {
    fn linear_lift_from_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &Self::Lower,
    ) -> wasmtime::Result<Self> {
        let [pointer, length] = src;
        Things::lift(cx, ty, pointer.get_u32(), length.get_u32())
    }

    fn linear_lift_from_memory(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        bytes: &[u8],
    ) -> wasmtime::Result<Self> {
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        Things::lift(cx, ty, word(0), word(4))
    }
}

/// Bytes of one `string` slot in a list: a pointer and a length.
const SLOT: usize = 8;

impl Things {
    fn lift(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        pointer: u32,
        length: u32,
    ) -> wasmtime::Result<Self> {
        let InterfaceType::List(list) = ty else {
            wasmtime::bail!("get must return a list of strings");
        };
        let element = cx.types[list].element;
        let limits = LIMITS.get();
        if let Some(limits) = limits.filter(|limits| u64::from(length) > limits.count) {
            return Err(Overflow::Count {
                count: length.into(),
                max: limits.count,
            }
            .into());
        }
        let (pointer, length) = (pointer as usize, length as usize);
        let memory = cx.memory();
        let slots = length
            .checked_mul(SLOT)
            .and_then(|size| pointer.checked_add(size))
            .and_then(|end| memory.get(pointer..end))
            .filter(|_| pointer % 4 == 0)
            .ok_or_else(|| {
                wasmtime::format_err!("get returned a list out of bounds of its memory")
            })?;
        let mut things = Vec::with_capacity(length);
        let mut bytes = 0u64;
        for slot in slots.chunks_exact(SLOT) {
            let thing = String::linear_lift_from_memory(cx, element, slot)?;
            bytes += thing.len() as u64;
            if let Some(limits) = limits.filter(|limits| bytes > limits.bytes) {
                return Err(Overflow::Bytes {
                    counted: bytes,
                    max: limits.bytes,
                }
                .into());
            }
            things.push(thing);
        }
        Ok(Things(things))
    }
}

/// `call`, with `limits` in force for every [`Things`] lifted while it is polled.
pub(crate) fn with_limits<F: Future>(limits: ThingLimits, call: F) -> WithLimits<F> {
    WithLimits {
        limits,
        call: Box::pin(call),
    }
}

/// The future of [`with_limits`].
pub(crate) struct WithLimits<F> {
    limits: ThingLimits,
    call: Pin<Box<F>>,
}

impl<F: Future> Future for WithLimits<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<F::Output> {
        let limits = self.limits;
        let outer = LIMITS.replace(Some(limits));
        let poll = self.call.as_mut().poll(context);
        LIMITS.set(outer);
        poll
    }
}
