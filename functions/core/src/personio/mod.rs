//! Personio v1 client: see `client` (HTTP) and `normalise` (attribute shapes → typed values).
