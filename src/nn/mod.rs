//! The finite-width training engine: networks, parameterisations, optimisers and
//! observables, batched over an ensemble of seeds.

pub mod abc_verdict;
pub mod activation;
pub mod kind;
pub mod network;
pub mod observe;
pub mod param;
pub mod part;
pub mod split;
pub mod train;

pub use kind::train_cost;
pub use network::{Ensemble, Workspace};
pub use train::members::{train_rates, train_rates_choosing_async};
pub use train::{
    TrainResult, mean_finite, split_workers, train, train_on, train_on_async, train_split,
};
