//! Which infinite-width limits describe a finite training setup, and why not where one
//! does not: the one answer the page (which curves to overlay) and the experiments ask.
//!
//! - The **DMFT** ([`super::dmft`]) is the limit of the mean-field / muP network,
//!   `f = w.phi(h) / (gamma0 N)` trained at rate `eta gamma0^2 N`, on its centred output
//!   `f - f(0)`, under full-batch GD, for an MLP, one output, within the solvers' size
//!   limits ([`super::dmft::check_solvable`]). Under NTK scaling the same gamma0 gives a
//!   network whose richness falls like `gamma0 / sqrt(N)`: its limit is the lazy one.
//! - The **lazy** limit ([`super::lazy`]) is kernel regression with the NTK, the limit of
//!   muP and NTK networks (and depth-muP ResNets) as the richness goes to zero; see
//!   [`super::lazy::validate_lazy`].

use super::dmft::check_solvable;
use super::lazy::validate_lazy;
use crate::config::{Parameterization, TrainConfig};
use crate::error::{Error, Result};

/// Monte Carlo samples and iteration cap the applicability check assumes (the page's
/// overlay solve); a larger solve is checked again by its own validation.
const CHECK_SAMPLES: usize = 1;

/// `Ok` when the DMFT describes `train`'s networks as N grows; otherwise the field that
/// rules it out (paths relative to the training setup, `model.centered`).
pub fn dmft_applies(train: &TrainConfig) -> Result<()> {
    check_solvable(train, CHECK_SAMPLES, 1)?;
    if !matches!(train.param, Parameterization::Mup { .. }) {
        return Err(Error::config(
            "param.kind",
            format!(
                "mup: the DMFT is the limit of mean-field (muP) networks; under {} the \
                 infinite-width limit is {}",
                train.param.name(),
                match train.param {
                    Parameterization::Ntk { .. } => "lazy (kernel regression with the NTK)",
                    Parameterization::Sp => "not a stable one",
                    _ => "not the DMFT's",
                }
            ),
        ));
    }
    if !train.model.centered {
        return Err(Error::config(
            "model.centered",
            "true: the DMFT describes the centred output f - f(0)",
        ));
    }
    if train.data.outputs() != 1 {
        return Err(Error::config(
            "data",
            "one output (the DMFT follows a scalar target)",
        ));
    }
    Ok(())
}

/// `Ok` when the lazy limit describes `train`'s networks ([`validate_lazy`]).
pub fn lazy_applies(train: &TrainConfig) -> Result<()> {
    validate_lazy(train)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Arch, OptimizerConfig};

    fn centred_mup() -> TrainConfig {
        let mut c = TrainConfig::default();
        c.model.centered = true;
        c
    }

    #[test]
    fn the_dmft_needs_centred_gd_mup_mlps_and_says_which_field_rules_it_out() {
        assert!(dmft_applies(&centred_mup()).is_ok());
        assert!(lazy_applies(&centred_mup()).is_ok());
        let field = |c: &TrainConfig| dmft_applies(c).unwrap_err().field().map(String::from);
        let mut c = centred_mup();
        c.model.centered = false;
        assert_eq!(field(&c).as_deref(), Some("model.centered"));
        let mut c = centred_mup();
        c.param = Parameterization::Ntk { gamma0: 1.0 };
        assert_eq!(field(&c).as_deref(), Some("param.kind"));
        // ... while the lazy limit does describe the centred NTK network
        assert!(lazy_applies(&c).is_ok());
        let mut c = centred_mup();
        c.optimizer = OptimizerConfig::Sgd {
            lr: 0.1,
            batch_size: 4,
        };
        assert_eq!(field(&c).as_deref(), Some("optimizer.kind"));
        let mut c = centred_mup();
        c.model.arch = Arch::Resnet;
        assert_eq!(field(&c).as_deref(), Some("model.arch"));
        let mut c = centred_mup();
        c.param = Parameterization::Sp;
        assert!(dmft_applies(&c).is_err() && lazy_applies(&c).is_err());
    }
}
