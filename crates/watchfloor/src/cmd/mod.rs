pub mod admin;
pub mod demo;
pub mod hub;
pub mod progress;
pub mod rules;
pub mod sensor;
pub mod synth;
pub mod verify;
