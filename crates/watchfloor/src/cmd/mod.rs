pub mod demo;
pub mod progress;
pub mod rules;
pub mod sensor;
pub mod synth;
pub mod verify;
