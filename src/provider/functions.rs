//! Provider functions in the core: their schemas for GetProviderSchema, and calls decoded against the parameter
//! types and encoded against the return type, so a function sees only values.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::framework::Function;
use super::protocol::{CallFunctionResponse, DynamicValue, FunctionError, FunctionSchema};
use super::server::{decode, encode};

/// The provider's functions, by name, with their schemas built once.
pub(super) struct Functions {
    by_name: BTreeMap<String, (Arc<dyn Function>, FunctionSchema)>,
}

impl Functions {
    /// The registry of `functions`.
    pub(super) fn new(functions: Vec<Arc<dyn Function>>) -> Self {
        let by_name = functions
            .into_iter()
            .map(|f| (f.name().to_string(), (f.clone(), f.schema())))
            .collect();
        Functions { by_name }
    }

    /// Every function's schema, by name.
    pub(super) fn schemas(&self) -> BTreeMap<String, FunctionSchema> {
        self.by_name
            .iter()
            .map(|(name, (_, schema))| (name.clone(), schema.clone()))
            .collect()
    }

    /// Calls `name` with Terraform's encoded arguments.
    pub(super) fn call(&self, name: &str, arguments: Vec<DynamicValue>) -> CallFunctionResponse {
        let failed = |text: String, argument: Option<usize>| CallFunctionResponse {
            result: None,
            error: Some(FunctionError { text, argument }),
        };
        let Some((function, schema)) = self.by_name.get(name) else {
            return failed(
                format!("this provider has no function named {name:?}"),
                None,
            );
        };
        if arguments.len() != schema.parameters.len() {
            return failed(
                format!(
                    "{name} takes {} arguments; got {}",
                    schema.parameters.len(),
                    arguments.len()
                ),
                None,
            );
        }
        let mut values = Vec::with_capacity(arguments.len());
        for (i, (argument, parameter)) in arguments.iter().zip(&schema.parameters).enumerate() {
            match decode(argument, &parameter.ty, "function argument") {
                Ok(v) => values.push(v),
                Err(d) => return failed(d.detail, Some(i)),
            }
        }
        match function.call(&values) {
            Ok(result) => match encode(&result, &schema.returns, "function result") {
                Ok(dv) => CallFunctionResponse {
                    result: Some(dv),
                    error: None,
                },
                Err(d) => failed(d.detail, None),
            },
            Err(e) => CallFunctionResponse {
                result: None,
                error: Some(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cty::{Type, Value};
    use crate::provider::protocol::FunctionParameter;

    struct Echo;

    impl Function for Echo {
        fn name(&self) -> &'static str {
            "echo"
        }
        fn schema(&self) -> FunctionSchema {
            FunctionSchema {
                parameters: vec![FunctionParameter {
                    name: "text".into(),
                    ty: Type::String,
                    description: String::new(),
                }],
                returns: Type::String,
                summary: String::new(),
                description: String::new(),
            }
        }
        fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
            match arguments.first().and_then(Value::as_str) {
                Some("") => Err(FunctionError {
                    text: "empty".into(),
                    argument: Some(0),
                }),
                Some(s) => Ok(Value::string(s)),
                None => Err(FunctionError {
                    text: "no text".into(),
                    argument: None,
                }),
            }
        }
    }

    fn arg(v: &Value) -> DynamicValue {
        DynamicValue {
            msgpack: crate::cty::msgpack::encode(v, &Type::String).unwrap(),
            json: Vec::new(),
        }
    }

    #[test]
    fn calls_decode_arguments_and_pass_errors_on() {
        let f = Functions::new(vec![Arc::new(Echo)]);
        let ok = f.call("echo", vec![arg(&Value::string("hi"))]);
        assert!(ok.error.is_none());
        let back = crate::cty::msgpack::decode(&ok.result.unwrap().msgpack, &Type::String).unwrap();
        assert_eq!(back, Value::string("hi"));
        let e = f.call("echo", vec![arg(&Value::string(""))]).error.unwrap();
        assert_eq!((e.text.as_str(), e.argument), ("empty", Some(0)));
        assert!(f
            .call("echo", vec![])
            .error
            .unwrap()
            .text
            .contains("takes 1 arguments"));
        assert!(f
            .call("nope", vec![])
            .error
            .unwrap()
            .text
            .contains("no function"));
        let bad = DynamicValue {
            msgpack: vec![0xc1],
            json: Vec::new(),
        };
        assert_eq!(f.call("echo", vec![bad]).error.unwrap().argument, Some(0));
    }
}
