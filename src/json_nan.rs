//! JSON has no NaN: serde_json writes a NaN (a diverged run's loss) as `null`. These
//! helpers read `null` back as NaN, so every result file round-trips.

use serde::{Deserialize, Deserializer};

/// A value whose f64 leaves may be written as `null`.
pub trait NullAsNan: Sized {
    type Raw: for<'de> Deserialize<'de>;
    fn fill(raw: Self::Raw) -> Self;
}

impl NullAsNan for f64 {
    type Raw = Option<f64>;
    fn fill(raw: Option<f64>) -> f64 {
        raw.unwrap_or(f64::NAN)
    }
}

impl<T: NullAsNan> NullAsNan for Vec<T> {
    type Raw = Vec<T::Raw>;
    fn fill(raw: Self::Raw) -> Self {
        raw.into_iter().map(T::fill).collect()
    }
}

/// `#[serde(deserialize_with = "crate::json_nan::null_as_nan")]`: `null` leaves become NaN.
pub fn null_as_nan<'de, D: Deserializer<'de>, T: NullAsNan>(d: D) -> Result<T, D::Error> {
    T::Raw::deserialize(d).map(T::fill)
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    /// A result shaped like `TrainResult::train_loss`: records of per-seed losses.
    #[derive(Serialize, Deserialize)]
    struct Losses {
        #[serde(deserialize_with = "super::null_as_nan")]
        loss: Vec<Vec<f64>>,
    }

    #[test]
    fn a_diverged_result_round_trips() {
        let r = Losses {
            loss: vec![vec![1.0, 2.0], vec![f64::NAN, 0.5]],
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"loss":[[1.0,2.0],[null,0.5]]}"#);
        let back: Losses = serde_json::from_str(&json).unwrap();
        assert!(back.loss[1][0].is_nan());
        assert_eq!(back.loss[0], [1.0, 2.0]);
        assert_eq!(back.loss[1][1], 0.5);
    }
}
