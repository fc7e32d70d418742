//! Request validation: the request type's JSON Schema, compiled once with the `jsonschema` crate, so every
//! keyword the published schema shows is enforced. `messages` words the failures (with `words`);
//! `request` turns bytes into typed requests.

mod locate;
mod messages;
mod request;
mod words;

use std::fmt;
use std::sync::{Arc, OnceLock};

use jsonschema::{Draft, ValidationOptions, ValidatorMap};
use serde_json::Value;

use messages::Site;

pub use request::{RequestError, deserialize, from_value, parse_request};

/// A value that does not fit the schema: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Path of the offending field, such as `points[1].lat`; empty for the body itself.
    pub path: String,
    /// What is wrong, naming the field in backticks and the limit in words.
    pub message: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A schema that cannot be compiled into a validator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the request schema is not a valid JSON Schema: {message}")]
pub struct SchemaError {
    message: String,
}

/// A request schema compiled once; cloning shares the compiled form.
#[derive(Clone)]
pub struct Validator {
    inner: Arc<Compiled>,
}

struct Compiled {
    schema: Value,
    check: Check,
}

enum Check {
    Schema {
        whole: jsonschema::Validator,
        draft: Draft,
        /// Every sub-schema compiled on its own, to narrow a large failing body down (`locate`);
        /// built the first time one comes.
        parts: OnceLock<Option<ValidatorMap>>,
    },
    /// A generated schema that does not compile (a `regex` attribute the engine refuses, say): every
    /// request is refused with the reason, since nothing unchecked may reach the model.
    Broken(SchemaError),
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field("schema", &self.inner.schema)
            .finish_non_exhaustive()
    }
}

impl Validator {
    /// Compiles a JSON Schema whose `$ref`s point into itself (`#/$defs/...` or `#/definitions/...`).
    ///
    /// The draft is taken from `$schema` (draft 4, 6, 7, 2019-09 or 2020-12), 2020-12 when there is none;
    /// `format` is checked, not only noted, whatever the draft. Nothing is fetched: a reference outside
    /// the schema is an error, as is anything else that keeps the schema from compiling.
    pub fn new(schema: Value) -> Result<Self, SchemaError> {
        let check = compile(&schema)?;
        Ok(Self {
            inner: Arc::new(Compiled { schema, check }),
        })
    }

    /// The schema for `T`, as schemars generates it.
    ///
    /// Should it not compile (schemars writes valid schemas, but a `regex` attribute can hold a pattern
    /// the regex engine refuses), the problem is logged and every request is refused with it.
    pub fn for_type<T: schemars::JsonSchema>() -> Self {
        let schema = easymlserve_core::schema_for::<T>();
        let check = match compile(&schema) {
            Ok(check) => check,
            Err(err) => {
                tracing::error!(%err, "the request schema does not compile: every request is refused");
                Check::Broken(err)
            }
        };
        Self {
            inner: Arc::new(Compiled { schema, check }),
        }
    }

    /// The schema this validator checks against.
    pub fn schema(&self) -> &Value {
        &self.inner.schema
    }

    /// Checks `instance`, returning the first problem found.
    pub fn validate(&self, instance: &Value) -> Result<(), Invalid> {
        match &self.inner.check {
            // The quick yes/no first: the detailed errors are only worth building for a failing request.
            Check::Schema { whole, .. } if whole.is_valid(instance) => Ok(()),
            Check::Schema { whole, draft, parts } => Err(self.explain(whole, *draft, parts, instance)),
            Check::Broken(err) => Err(Invalid {
                path: String::new(),
                message: err.to_string(),
            }),
        }
    }

    /// The problem with an instance that failed: from all its errors when it is small, else from the
    /// errors of the small failing part `locate` narrows it down to.
    #[cold]
    fn explain(
        &self,
        whole: &jsonschema::Validator,
        draft: Draft,
        parts: &OnceLock<Option<ValidatorMap>>,
        instance: &Value,
    ) -> Invalid {
        let root = &self.inner.schema;
        if locate::is_large(instance) {
            if let Some(parts) = parts.get_or_init(|| options(draft).build_map(root).ok()) {
                let part = locate::narrow(root, parts, instance);
                if let Some(validator) = parts.get(&part.pointer) {
                    let site = Site {
                        root,
                        pointer: &part.pointer,
                        path: &part.path,
                        value: part.value,
                    };
                    return messages::first_problem(&site, validator.iter_errors(part.value));
                }
            }
        }
        let site = Site {
            root,
            pointer: "#",
            path: &[],
            value: instance,
        };
        messages::first_problem(&site, whole.iter_errors(instance))
    }
}

fn compile(schema: &Value) -> Result<Check, SchemaError> {
    let draft = draft_of(schema);
    let whole = options(draft).build(schema).map_err(|err| SchemaError {
        message: messages::schema_problem(&err),
    })?;
    Ok(Check::Schema {
        whole,
        draft,
        parts: OnceLock::new(),
    })
}

/// How every schema is compiled: its draft, `format` asserted, nothing fetched.
fn options(draft: Draft) -> ValidationOptions<'static> {
    let options = jsonschema::options()
        .with_draft(draft)
        .should_validate_formats(true)
        .offline();
    if matches!(draft, Draft::Draft4 | Draft::Draft6 | Draft::Draft7) {
        // The crate knows `uuid` from 2019-09 on; pydantic and hand-written draft-07 schemas use it too.
        options.with_format("uuid", is_uuid)
    } else {
        options
    }
}

/// The draft `$schema` names; 2020-12 when it names none we know (schemars and pydantic v2 write
/// 2020-12 or nothing, pydantic v1 writes nothing and uses draft-07's `definitions`, which resolve as
/// plain JSON pointers in any draft).
fn draft_of(schema: &Value) -> Draft {
    let Some(uri) = schema.get("$schema").and_then(Value::as_str) else {
        return Draft::Draft202012;
    };
    if uri.contains("draft-04") {
        Draft::Draft4
    } else if uri.contains("draft-06") {
        Draft::Draft6
    } else if uri.contains("draft-07") {
        Draft::Draft7
    } else if uri.contains("2019-09") {
        Draft::Draft201909
    } else {
        Draft::Draft202012
    }
}

/// RFC 9562's textual form: 8-4-4-4-12 hexadecimal digits.
fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests;
