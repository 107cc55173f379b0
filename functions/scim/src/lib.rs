//! SCIM destination.
