//! TCP stream reassembly (see ARCHITECTURE.md).
