//! Deterministic regression tests for what the randomised suite found.
