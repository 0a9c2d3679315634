//! [`Request`]s and [`Reply`]s of the block machine as flat `f64` messages, so that Web
//! Workers can pass them as transferable `Float64Array`s (the page's JavaScript carries
//! them unread; both ends are this module).
//!
//! A message is a tag, then its fields in order: counts as exact small integers, arrays
//! as their length and entries, optional arrays as `0` (none) or `1` and the array.
//!
//! ```text
//! Layer    [1, layer, tt, u?, r?, phi_prev, r_prev?, g_next?, b_here?, delta]
//! Step     [2, t, delta]
//! Outputs  [3, block, t, sums]
//! Sums     [4, block, phi, g, (moments, covariance)? against r, (...)? against u]
//! ```
//!
//! Decoding checks every count and length and names what is wrong; the shapes are
//! checked again where the message is used ([`super::machine`]).

use super::BlockSums;
use super::machine::{LayerInputs, Reply, Request};
use crate::error::{Error, Result};

const LAYER: f64 = 1.0;
const STEP: f64 = 2.0;
const OUTPUTS: f64 = 3.0;
const SUMS: f64 = 4.0;

impl Request {
    /// The flat message (see the module doc).
    #[inline(never)]
    pub fn encode(&self) -> Vec<f64> {
        let mut w = Writer::default();
        match self {
            Request::Layer(i) => {
                w.num(LAYER);
                w.count(i.layer);
                w.count(i.tt);
                w.opt(&i.u_factor);
                w.opt(&i.r_factor);
                w.arr(&i.phi_prev);
                w.opt(&i.r_prev);
                w.opt(&i.g_next);
                w.opt(&i.b_here);
                w.arr(&i.delta);
            }
            Request::Step { t, delta } => {
                w.num(STEP);
                w.count(*t);
                w.arr(delta);
            }
        }
        w.0
    }

    /// Read a message made by [`Request::encode`].
    #[inline(never)]
    pub fn decode(msg: &[f64]) -> Result<Self> {
        let mut r = Reader { msg, at: 0 };
        let tag = r.num("tag")?;
        let req = if tag == LAYER {
            Request::Layer(LayerInputs {
                layer: r.count("layer")?,
                tt: r.count("tt")?,
                u_factor: r.opt("u_factor")?,
                r_factor: r.opt("r_factor")?,
                phi_prev: r.arr("phi_prev")?,
                r_prev: r.opt("r_prev")?,
                g_next: r.opt("g_next")?,
                b_here: r.opt("b_here")?,
                delta: r.arr("delta")?,
            })
        } else if tag == STEP {
            Request::Step {
                t: r.count("t")?,
                delta: r.arr("delta")?,
            }
        } else {
            return Err(bad(format!("a request tag (1 or 2), got {tag}")));
        };
        r.end()?;
        Ok(req)
    }
}

impl Reply {
    /// The flat message (see the module doc).
    #[inline(never)]
    pub fn encode(&self) -> Vec<f64> {
        let mut w = Writer::default();
        match self {
            Reply::Outputs { block, t, sums } => {
                w.num(OUTPUTS);
                w.count(*block);
                w.count(*t);
                w.arr(sums);
            }
            Reply::Sums { block, sums } => {
                w.num(SUMS);
                w.count(*block);
                w.arr(&sums.phi);
                w.arr(&sums.g);
                for pair in [&sums.r, &sums.u] {
                    w.num(if pair.is_some() { 1.0 } else { 0.0 });
                    if let Some((m, c)) = pair {
                        w.arr(m);
                        w.arr(c);
                    }
                }
            }
        }
        w.0
    }

    /// Read a message made by [`Reply::encode`].
    #[inline(never)]
    pub fn decode(msg: &[f64]) -> Result<Self> {
        let mut r = Reader { msg, at: 0 };
        let tag = r.num("tag")?;
        let reply = if tag == OUTPUTS {
            Reply::Outputs {
                block: r.count("block")?,
                t: r.count("t")?,
                sums: r.arr("sums")?,
            }
        } else if tag == SUMS {
            let block = r.count("block")?;
            let phi = r.arr("phi")?;
            let g = r.arr("g")?;
            let mut pair = |what: &str| -> Result<Option<(Vec<f64>, Vec<f64>)>> {
                Ok(match r.flag(what)? {
                    false => None,
                    true => Some((r.arr(what)?, r.arr(what)?)),
                })
            };
            let (rr, u) = (pair("moments against r")?, pair("moments against u")?);
            Reply::Sums {
                block,
                sums: BlockSums { phi, g, r: rr, u },
            }
        } else {
            return Err(bad(format!("a reply tag (3 or 4), got {tag}")));
        };
        r.end()?;
        Ok(reply)
    }
}

fn bad(what: String) -> Error {
    Error::Data(format!("DMFT block message: expected {what}"))
}

#[derive(Default)]
struct Writer(Vec<f64>);

impl Writer {
    fn num(&mut self, x: f64) {
        self.0.push(x);
    }
    #[inline(never)]
    fn count(&mut self, n: usize) {
        self.0.push(n as f64);
    }
    #[inline(never)]
    fn arr(&mut self, v: &[f64]) {
        self.count(v.len());
        self.0.extend_from_slice(v);
    }
    #[inline(never)]
    fn opt(&mut self, v: &Option<Vec<f64>>) {
        match v {
            None => self.num(0.0),
            Some(v) => {
                self.num(1.0);
                self.arr(v);
            }
        }
    }
}

struct Reader<'a> {
    msg: &'a [f64],
    at: usize,
}

impl Reader<'_> {
    fn num(&mut self, what: &str) -> Result<f64> {
        let x = *self
            .msg
            .get(self.at)
            .ok_or_else(|| bad(format!("{what} at entry {}, got the end", self.at)))?;
        self.at += 1;
        Ok(x)
    }
    #[inline(never)]
    fn count(&mut self, what: &str) -> Result<usize> {
        let x = self.num(what)?;
        if !(x >= 0.0 && x.fract() == 0.0 && x <= (1u64 << 40) as f64) {
            return Err(bad(format!("{what}: a count, got {x}")));
        }
        Ok(x as usize)
    }
    fn flag(&mut self, what: &str) -> Result<bool> {
        match self.count(what)? {
            0 => Ok(false),
            1 => Ok(true),
            x => Err(bad(format!("{what}: 0 (none) or 1, got {x}"))),
        }
    }
    #[inline(never)]
    fn arr(&mut self, what: &str) -> Result<Vec<f64>> {
        let n = self.count(what)?;
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.msg.len())
            .ok_or_else(|| {
                bad(format!(
                    "{what}: {n} entries, got {}",
                    self.msg.len() - self.at
                ))
            })?;
        let v = self.msg[self.at..end].to_vec();
        self.at = end;
        Ok(v)
    }
    #[inline(never)]
    fn opt(&mut self, what: &str) -> Result<Option<Vec<f64>>> {
        Ok(match self.flag(what)? {
            false => None,
            true => Some(self.arr(what)?),
        })
    }
    fn end(&self) -> Result<()> {
        if self.at != self.msg.len() {
            return Err(bad(format!(
                "the end at entry {}, got {} more",
                self.at,
                self.msg.len() - self.at
            )));
        }
        Ok(())
    }
}
