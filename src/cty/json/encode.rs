//! Value -> JSON text, following go-cty's `json.Marshal`.

use std::fmt::Write as _;

use crate::cty::encode::Sink;
use crate::cty::{Number, Refinements, Type};

/// JSON as go-cty writes it; unknown values cannot be written.
#[derive(Default)]
pub(super) struct Json {
    /// What is written.
    pub(super) out: String,
}

impl Sink for Json {
    fn null(&mut self) -> Result<(), String> {
        self.out.push_str("null");
        Ok(())
    }
    fn unknown(&mut self, _refinements: &Refinements, _ty: &Type) -> Result<(), String> {
        Err("value is not known; JSON cannot represent unknown values".to_string())
    }
    fn string(&mut self, s: &str) -> Result<(), String> {
        let quoted = serde_json::to_string(s).map_err(|e| e.to_string())?;
        self.out.push_str(&quoted);
        Ok(())
    }
    fn number(&mut self, n: &Number) -> Result<(), String> {
        let _ = write!(self.out, "{n}");
        Ok(())
    }
    fn bool(&mut self, b: bool) -> Result<(), String> {
        self.out.push_str(if b { "true" } else { "false" });
        Ok(())
    }
    fn begin_array(&mut self, _len: usize) -> Result<(), String> {
        self.out.push('[');
        Ok(())
    }
    fn array_item(&mut self, index: usize) -> Result<(), String> {
        if index > 0 {
            self.out.push(',');
        }
        Ok(())
    }
    fn end_array(&mut self) -> Result<(), String> {
        self.out.push(']');
        Ok(())
    }
    fn begin_map(&mut self, _len: usize) -> Result<(), String> {
        self.out.push('{');
        Ok(())
    }
    fn map_key(&mut self, index: usize, key: &str) -> Result<(), String> {
        if index > 0 {
            self.out.push(',');
        }
        self.string(key)?;
        self.out.push(':');
        Ok(())
    }
    fn end_map(&mut self) -> Result<(), String> {
        self.out.push('}');
        Ok(())
    }
    /// `{"value": <value>, "type": <type>}`.
    fn begin_dynamic(&mut self, _ty: &Type) -> Result<(), String> {
        self.out.push_str("{\"value\":");
        Ok(())
    }
    fn end_dynamic(&mut self, ty: &Type) -> Result<(), String> {
        self.out.push_str(",\"type\":");
        let type_json = serde_json::to_string(&ty.to_json()).map_err(|e| e.to_string())?;
        self.out.push_str(&type_json);
        self.out.push('}');
        Ok(())
    }
}
