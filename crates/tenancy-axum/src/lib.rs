//! The tower layer, extractors and rejections that put every request inside
//! exactly one tenant.
