//! The flow table (see ARCHITECTURE.md).
