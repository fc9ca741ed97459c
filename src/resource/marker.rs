//! The tag a create puts on its image (on clouds that take tags at import), carrying the configuration's
//! fingerprint, so that a create repeated after the provider died can recognise the image its earlier attempt made.
//!
//! It stands alone, importing nothing, because three layers read it: `create` sets and finds it, `state` hides it
//! from the user's tags, and `limits` refuses it (and the whole `cloudimage:` prefix) in configurations. None of
//! them needs to import another for it.

/// The tag that carries a create's configuration fingerprint, on clouds that take tags at import.
pub(super) const MARKER_TAG: &str = "cloudimage:fingerprint";
