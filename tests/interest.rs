//! Tests of `Interest`: flags, set operations, ordering, `Debug` strings and size.
//! `Interest::PRIORITY` exists on Linux and Android only (as upstream): the parts that use it
//! are compiled there only; everything else runs on every platform.

use std::mem::size_of;

use mio::Interest;

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

#[test]
fn is_send_and_sync() {
    assert_send::<Interest>();
    assert_sync::<Interest>();
}

#[test]
fn size_is_one_byte_with_niche() {
    assert_eq!(size_of::<Interest>(), 1);
    assert_eq!(size_of::<Option<Interest>>(), 1);
}

#[test]
fn is_queries() {
    let r = Interest::READABLE;
    assert!(r.is_readable());
    assert!(!r.is_writable());
    assert!(!r.is_priority());
    assert!(!r.is_aio());
    assert!(!r.is_lio());

    let w = Interest::WRITABLE;
    assert!(!w.is_readable());
    assert!(w.is_writable());
    assert!(!w.is_priority());
    assert!(!w.is_aio());
    assert!(!w.is_lio());
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn is_queries_priority() {
    let p = Interest::PRIORITY;
    assert!(!p.is_readable());
    assert!(!p.is_writable());
    assert!(p.is_priority());
    assert!(!p.is_aio());
    assert!(!p.is_lio());
}

#[test]
fn add_and_bitor() {
    let both = Interest::READABLE.add(Interest::WRITABLE);
    assert!(both.is_readable());
    assert!(both.is_writable());
    assert!(!both.is_priority());
    assert_eq!(both, Interest::READABLE | Interest::WRITABLE);
    assert_eq!(both, Interest::WRITABLE | Interest::READABLE);
    // Idempotent.
    assert_eq!(Interest::READABLE | Interest::READABLE, Interest::READABLE);
    assert_eq!(both | Interest::READABLE, both);
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn add_and_bitor_priority() {
    let all = Interest::READABLE | Interest::WRITABLE | Interest::PRIORITY;
    assert!(all.is_readable() && all.is_writable() && all.is_priority());
    assert!(!all.is_aio() && !all.is_lio());
}

#[test]
fn bitor_assign() {
    let mut i = Interest::READABLE;
    i |= Interest::WRITABLE;
    assert_eq!(i, Interest::READABLE | Interest::WRITABLE);
    i |= Interest::READABLE;
    assert_eq!(i, Interest::READABLE | Interest::WRITABLE);
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn bitor_assign_priority() {
    let mut i = Interest::READABLE | Interest::WRITABLE;
    i |= Interest::PRIORITY;
    assert!(i.is_priority());
    i |= Interest::READABLE;
    assert_eq!(
        i,
        Interest::READABLE | Interest::WRITABLE | Interest::PRIORITY
    );
}

#[test]
fn remove() {
    let both = Interest::READABLE | Interest::WRITABLE;
    assert_eq!(both.remove(Interest::READABLE), Some(Interest::WRITABLE));
    assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
    assert_eq!(both.remove(both), None);
    assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
    // Removing a flag that is not there changes nothing.
    assert_eq!(
        Interest::READABLE.remove(Interest::WRITABLE),
        Some(Interest::READABLE)
    );
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn remove_priority() {
    assert_eq!(
        Interest::READABLE.remove(Interest::PRIORITY),
        Some(Interest::READABLE)
    );
    let all = Interest::READABLE | Interest::WRITABLE | Interest::PRIORITY;
    assert_eq!(
        all.remove(Interest::READABLE | Interest::PRIORITY),
        Some(Interest::WRITABLE)
    );
}

#[test]
fn usable_in_const_context() {
    const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
    const READ: bool = BOTH.is_readable();
    const WRITE: bool = BOTH.is_writable();
    const PRI: bool = BOTH.is_priority();
    const AIO: bool = BOTH.is_aio();
    const LIO: bool = BOTH.is_lio();
    let flags = [READ, WRITE, PRI, AIO, LIO];
    assert_eq!(flags, [true, true, false, false, false]);
}

#[test]
fn copy_clone_eq_ord() {
    let a = Interest::READABLE;
    let b = a; // Copy
    #[allow(clippy::clone_on_copy)]
    let c = a.clone();
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_ne!(Interest::READABLE, Interest::WRITABLE);
    // Ordered by the bits: READABLE (1) < WRITABLE (2) < both (3) < PRIORITY (16).
    assert!(Interest::READABLE < Interest::WRITABLE);
    assert!(Interest::WRITABLE < (Interest::READABLE | Interest::WRITABLE));
    let mut v = vec![
        Interest::WRITABLE,
        Interest::READABLE | Interest::WRITABLE,
        Interest::READABLE,
    ];
    v.sort();
    assert_eq!(
        v,
        vec![
            Interest::READABLE,
            Interest::WRITABLE,
            Interest::READABLE | Interest::WRITABLE,
        ]
    );
    assert_eq!(
        Interest::READABLE.max(Interest::WRITABLE),
        Interest::WRITABLE
    );
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn ord_priority() {
    assert!((Interest::READABLE | Interest::WRITABLE) < Interest::PRIORITY);
    let mut v = vec![
        Interest::PRIORITY,
        Interest::WRITABLE,
        Interest::READABLE | Interest::WRITABLE,
        Interest::READABLE,
    ];
    v.sort();
    assert_eq!(
        v,
        vec![
            Interest::READABLE,
            Interest::WRITABLE,
            Interest::READABLE | Interest::WRITABLE,
            Interest::PRIORITY,
        ]
    );
}

#[test]
fn debug_strings() {
    assert_eq!(format!("{:?}", Interest::READABLE), "READABLE");
    assert_eq!(format!("{:?}", Interest::WRITABLE), "WRITABLE");
    assert_eq!(
        format!("{:?}", Interest::READABLE | Interest::WRITABLE),
        "READABLE | WRITABLE"
    );
    // The order is fixed, whatever the order of construction.
    assert_eq!(
        format!("{:?}", Interest::WRITABLE | Interest::READABLE),
        "READABLE | WRITABLE"
    );
    // `{:#?}` is the same: there is no struct to expand.
    assert_eq!(format!("{:#?}", Interest::READABLE), "READABLE");
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn debug_strings_priority() {
    assert_eq!(format!("{:?}", Interest::PRIORITY), "PRIORITY");
    assert_eq!(
        format!("{:?}", Interest::READABLE | Interest::PRIORITY),
        "READABLE | PRIORITY"
    );
    assert_eq!(
        format!(
            "{:?}",
            Interest::PRIORITY | Interest::WRITABLE | Interest::READABLE
        ),
        "READABLE | WRITABLE | PRIORITY"
    );
}
