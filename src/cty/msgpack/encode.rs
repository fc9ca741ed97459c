//! Value -> MessagePack, following go-cty's `msgpack.Marshal`.

use super::unknown;
use super::wire::{WireError, Writer};
use crate::cty::encode::Sink;
use crate::cty::{Number, Refinements, Type};

/// Writes a number the way go-cty does: an integer when it fits `i64`, a float64 when it is a
/// non-integer that float64 holds exactly, otherwise its exact decimal text as a string.
pub(super) fn write_number(w: &mut Writer, n: &Number) -> Result<(), WireError> {
    if let Some(i) = n.to_i64() {
        w.int(i);
        return Ok(());
    }
    if !n.is_integer() {
        if let Some(f) = n.to_exact_f64() {
            w.f64(f);
            return Ok(());
        }
    }
    w.str(&n.to_string())
}

/// MessagePack as go-cty writes it.
#[derive(Default)]
pub(super) struct Msgpack {
    /// What is written.
    pub(super) w: Writer,
}

fn wire(r: Result<(), WireError>) -> Result<(), String> {
    r.map_err(|e| e.message().to_string())
}

impl Sink for Msgpack {
    fn null(&mut self) -> Result<(), String> {
        self.w.nil();
        Ok(())
    }
    fn unknown(&mut self, refinements: &Refinements, ty: &Type) -> Result<(), String> {
        wire(unknown::write(&mut self.w, refinements, ty))
    }
    fn string(&mut self, s: &str) -> Result<(), String> {
        wire(self.w.str(s))
    }
    fn number(&mut self, n: &Number) -> Result<(), String> {
        wire(write_number(&mut self.w, n))
    }
    fn bool(&mut self, b: bool) -> Result<(), String> {
        self.w.bool(b);
        Ok(())
    }
    fn begin_array(&mut self, len: usize) -> Result<(), String> {
        wire(self.w.array_len(len))
    }
    fn array_item(&mut self, _index: usize) -> Result<(), String> {
        Ok(())
    }
    fn end_array(&mut self) -> Result<(), String> {
        Ok(())
    }
    fn begin_map(&mut self, len: usize) -> Result<(), String> {
        wire(self.w.map_len(len))
    }
    fn map_key(&mut self, _index: usize, key: &str) -> Result<(), String> {
        wire(self.w.str(key))
    }
    fn end_map(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// `[type as JSON bytes, value]`.
    fn begin_dynamic(&mut self, ty: &Type) -> Result<(), String> {
        wire(self.w.array_len(2))?;
        wire(self.w.bin(&ty.to_json_bytes()))
    }
    fn end_dynamic(&mut self, _ty: &Type) -> Result<(), String> {
        Ok(())
    }
}
