/// Associates readiness events with [`event::Source`]s.
///
/// A `Token` is a wrapper around a `usize` that the caller chooses when it registers a source
/// with a [`Registry`]. Every [`Event`] produced for that source carries the same token back, so
/// the caller can find the source again (typically by using the value as an index into a slab
/// or a map, or by storing a pointer address in it).
///
/// No value is reserved: all `usize::MAX + 1` values, including pointer addresses, round-trip
/// unchanged through the selector. Token values only need to be unique among the sources the
/// caller wants to tell apart; the selector does not check them.
///
/// [`event::Source`]: crate::event::Source
/// [`Registry`]: crate::Registry
/// [`Event`]: crate::event::Event
///
/// # Examples
///
/// Using a token as an index into a `Vec` of connections:
///
/// ```
/// use mio::Token;
///
/// let names = vec!["listener", "client"];
/// let token = Token(1);
/// assert_eq!(names[token.0], "client");
/// assert_eq!(usize::from(token), 1);
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(pub usize);

impl From<Token> for usize {
    #[inline]
    fn from(token: Token) -> usize {
        token.0
    }
}
