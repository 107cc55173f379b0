//! Fake Personio.
