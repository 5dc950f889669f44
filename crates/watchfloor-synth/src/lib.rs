//! Synthetic election-office traffic (see ARCHITECTURE.md).
