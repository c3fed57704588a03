use std::num::NonZeroU8;
use std::{fmt, ops};

/// The kinds of readiness a caller wants to be told about when registering a source.
///
/// An `Interest` is never empty: it holds at least one of the flags below. Combine them with
/// `|` (or [`Interest::add`]); take one away with [`Interest::remove`], which returns `None`
/// rather than an empty set.
///
/// | Interest | Reported as | Platforms |
/// |---|---|---|
/// | [`READABLE`](Interest::READABLE) | [`Event::is_readable`], [`Event::is_read_closed`] | all |
/// | [`WRITABLE`](Interest::WRITABLE) | [`Event::is_writable`], [`Event::is_write_closed`] | all |
/// | [`PRIORITY`](Interest#associatedconstant.PRIORITY) | [`Event::is_priority`] (and readable) | Linux, Android |
/// | `AIO` | [`Event::is_aio`] | FreeBSD, DragonFly, Apple's systems |
/// | `LIO` | [`Event::is_lio`] | FreeBSD |
///
/// Errors and hang-ups are always reported, whatever the interest.
///
/// [`Event::is_readable`]: crate::event::Event::is_readable
/// [`Event::is_read_closed`]: crate::event::Event::is_read_closed
/// [`Event::is_writable`]: crate::event::Event::is_writable
/// [`Event::is_write_closed`]: crate::event::Event::is_write_closed
/// [`Event::is_priority`]: crate::event::Event::is_priority
/// [`Event::is_aio`]: crate::event::Event::is_aio
/// [`Event::is_lio`]: crate::event::Event::is_lio
///
/// # Examples
///
/// ```
/// use mio::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
/// assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
/// assert_eq!(format!("{:?}", both), "READABLE | WRITABLE");
/// ```
#[derive(Copy, PartialEq, Eq, Clone, PartialOrd, Ord)]
pub struct Interest(NonZeroU8);

const READABLE: u8 = 0b0_0001;
const WRITABLE: u8 = 0b0_0010;
// The AIO and LIO bits exist only where kqueue has `EVFILT_AIO`/`EVFILT_LIO`; the
// `is_aio`/`is_lio` queries exist everywhere, as upstream.
const AIO: u8 = 0b0_0100;
const LIO: u8 = 0b0_1000;
const PRIORITY: u8 = 0b1_0000;
// This crate's triggers (`Trigger`); none set is `Edge`. Not directions: an `Interest` always
// has at least one of the bits above too.
const ONESHOT: u8 = 0b10_0000;
const LEVEL: u8 = 0b100_0000;
const EXCLUSIVE: u8 = 0b1000_0000;
const TRIGGERS: u8 = ONESHOT | LEVEL | EXCLUSIVE;

/// `NonZeroU8::new` is const only since 1.47 but `Option::unwrap` is not const before 1.83:
/// build the constant from a literal that is known to be non-zero.
const fn flag(bits: u8) -> Interest {
    match NonZeroU8::new(bits) {
        Some(bits) => Interest(bits),
        None => panic!("an Interest can not be empty"),
    }
}

impl Interest {
    /// Interest in readable readiness (and the read half closing).
    pub const READABLE: Interest = flag(READABLE);

    /// Interest in writable readiness (and the write half closing).
    pub const WRITABLE: Interest = flag(WRITABLE);

    /// Interest in asynchronous I/O completions (`EVFILT_AIO`): an aio(4) request that names
    /// the `Poll`'s kqueue (`Registry::as_fd`) in its `sigevent` is reported under its token.
    #[cfg(mio_aio)]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(
            target_os = "dragonfly",
            target_os = "freebsd",
            target_os = "ios",
            target_os = "macos",
            target_os = "tvos",
            target_os = "visionos",
            target_os = "watchos"
        )))
    )]
    pub const AIO: Interest = flag(AIO);

    /// Interest in list I/O completions (`EVFILT_LIO`, FreeBSD): a lio_listio(2) batch that
    /// names the `Poll`'s kqueue is reported under its token.
    #[cfg(target_os = "freebsd")]
    #[cfg_attr(docsrs, doc(cfg(target_os = "freebsd")))]
    pub const LIO: Interest = flag(LIO);

    /// Interest in `EPOLLPRI` events: urgent (out-of-band) TCP data, and state changes of
    /// special files such as `/proc/self/mounts` or a pseudo-terminal master.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub const PRIORITY: Interest = flag(PRIORITY);

    /// Returns the union of `self` and `other`; the same as `self | other`, usable in `const`.
    ///
    /// ```
    /// use mio::Interest;
    ///
    /// const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
    /// assert!(BOTH.is_readable() && BOTH.is_writable());
    /// ```
    #[allow(clippy::should_implement_trait)]
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub const fn add(self, other: Interest) -> Interest {
        flag(self.0.get() | other.0.get())
    }

    /// Returns `self` without the flags of `other`, or `None` if nothing would be left.
    ///
    /// ```
    /// use mio::Interest;
    ///
    /// let both = Interest::READABLE | Interest::WRITABLE;
    /// assert_eq!(both.remove(Interest::READABLE), Some(Interest::WRITABLE));
    /// assert_eq!(Interest::WRITABLE.remove(Interest::WRITABLE), None);
    /// ```
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub fn remove(self, other: Interest) -> Option<Interest> {
        let bits = self.0.get() & !other.0.get();
        if bits & !TRIGGERS == 0 {
            // A trigger alone is no interest.
            return None;
        }
        NonZeroU8::new(bits).map(Interest)
    }

    /// The same interest with trigger `trigger` (replacing any other). **An extension of this
    /// crate**, see [`Trigger`](crate::Trigger).
    ///
    /// ```
    /// use mio::{Interest, Trigger};
    ///
    /// let level = Interest::READABLE.with_trigger(Trigger::Level);
    /// assert_eq!(level.trigger(), Some(Trigger::Level));
    /// assert_eq!(level.with_trigger(Trigger::Edge), Interest::READABLE);
    /// ```
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub const fn with_trigger(self, trigger: crate::Trigger) -> Interest {
        let bit = match trigger {
            crate::Trigger::Edge => 0,
            crate::Trigger::Oneshot => ONESHOT,
            crate::Trigger::Level => LEVEL,
            crate::Trigger::Exclusive => EXCLUSIVE,
        };
        flag((self.0.get() & !TRIGGERS) | bit)
    }

    /// The same interest, one-shot: one event, then silent until `reregister`. **An extension
    /// of this crate**, see [`Trigger::Oneshot`](crate::Trigger::Oneshot).
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub const fn oneshot(self) -> Interest {
        self.with_trigger(crate::Trigger::Oneshot)
    }

    /// The same interest, level-triggered: reported on every `poll` while ready. **An
    /// extension of this crate**, see [`Trigger::Level`](crate::Trigger::Level).
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub const fn level(self) -> Interest {
        self.with_trigger(crate::Trigger::Level)
    }

    /// The same interest, exclusive: of several `Poll`s watching the same fd, at most one is
    /// woken (`EPOLLEXCLUSIVE`). **An extension of this crate**, see
    /// [`Trigger::Exclusive`](crate::Trigger::Exclusive).
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub const fn exclusive(self) -> Interest {
        self.with_trigger(crate::Trigger::Exclusive)
    }

    /// The trigger this interest registers with ([`Trigger::Edge`](crate::Trigger::Edge)
    /// unless one was set), or `None` when two different ones were combined with `|`
    /// (registering such an interest fails with `InvalidInput`). **An extension of this
    /// crate.**
    #[must_use]
    pub const fn trigger(self) -> Option<crate::Trigger> {
        match self.0.get() & TRIGGERS {
            0 => Some(crate::Trigger::Edge),
            ONESHOT => Some(crate::Trigger::Oneshot),
            LEVEL => Some(crate::Trigger::Level),
            EXCLUSIVE => Some(crate::Trigger::Exclusive),
            _ => None,
        }
    }

    /// The trigger for a backend: `InvalidInput` for two triggers at once.
    #[cfg(feature = "os-poll")]
    #[allow(dead_code)] // Not every backend has a source type in every feature set.
    pub(crate) fn trigger_checked(self) -> std::io::Result<crate::Trigger> {
        self.trigger().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "an Interest with two different triggers (combined with `|`)",
            )
        })
    }

    /// Whether the set contains [`Interest::READABLE`].
    #[must_use]
    pub const fn is_readable(self) -> bool {
        self.0.get() & READABLE != 0
    }

    /// Whether the set contains [`Interest::WRITABLE`].
    #[must_use]
    pub const fn is_writable(self) -> bool {
        self.0.get() & WRITABLE != 0
    }

    /// Whether the set contains the `AIO` interest; always `false` where it does not exist.
    #[must_use]
    pub const fn is_aio(self) -> bool {
        self.0.get() & AIO != 0
    }

    /// Whether the set contains the `LIO` interest (FreeBSD); always `false` elsewhere.
    #[must_use]
    pub const fn is_lio(self) -> bool {
        self.0.get() & LIO != 0
    }

    /// Whether the set contains [`Interest::PRIORITY`](Interest#associatedconstant.PRIORITY).
    #[must_use]
    pub const fn is_priority(self) -> bool {
        self.0.get() & PRIORITY != 0
    }
}

impl ops::BitOr for Interest {
    type Output = Self;

    #[inline]
    fn bitor(self, other: Self) -> Self {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    #[inline]
    fn bitor_assign(&mut self, other: Self) {
        *self = *self | other;
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the names of constants that exist on this platform are printed.
        let names: &[(bool, &str)] = &[
            (self.is_readable(), "READABLE"),
            (self.is_writable(), "WRITABLE"),
            #[cfg(mio_aio)]
            (self.is_aio(), "AIO"),
            #[cfg(target_os = "freebsd")]
            (self.is_lio(), "LIO"),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            (self.is_priority(), "PRIORITY"),
            (self.0.get() & ONESHOT != 0, "ONESHOT"),
            (self.0.get() & LEVEL != 0, "LEVEL"),
            (self.0.get() & EXCLUSIVE != 0, "EXCLUSIVE"),
        ];
        let mut first = true;
        for &(set, name) in names {
            if set {
                if !first {
                    fmt.write_str(" | ")?;
                }
                fmt.write_str(name)?;
                first = false;
            }
        }
        debug_assert!(!first, "printed no flag of a non-empty Interest");
        Ok(())
    }
}
