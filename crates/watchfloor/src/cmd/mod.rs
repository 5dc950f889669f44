pub mod demo;
pub mod progress;
pub mod sensor;
pub mod synth;
pub mod verify;
