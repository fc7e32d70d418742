//! Words the `jsonschema` crate's errors the way our 422s read: the field path in our style
//! (`points[1].lat`), the field in backticks, the limit in plain words, one problem per answer.

use std::fmt::Write as _;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ErrorIterator, ValidationError};
use serde_json::Value;

use super::Invalid;
use super::words::{chars, float, format_words, len, number, repeated, type_name, type_names, types_in_schema};

/// How many errors are looked at to choose one: enough for every keyword of a few levels, bounded so
/// that a request with a million bad items costs no more to refuse than one with a few.
const CONSIDERED: usize = 64;

/// What is wrong with a schema that does not compile, with the place in the schema when there is one.
pub(super) fn schema_problem(err: &ValidationError<'_>) -> String {
    let at = err.instance_path().as_str();
    if at.is_empty() {
        err.to_string()
    } else {
        format!("{err} (at `{at}`)")
    }
}

/// Where the errors come from: the part of the body a (sub-)validator checked, and the schema it was
/// compiled from.
pub(super) struct Site<'a> {
    /// The whole request schema.
    pub(super) root: &'a Value,
    /// The pointer of the validator's schema in it, `#` for the whole schema.
    pub(super) pointer: &'a str,
    /// The path of the checked part in the body.
    pub(super) path: &'a [Seg],
    /// The checked part.
    pub(super) value: &'a Value,
}

/// The one problem to report among the errors of a failed validation.
///
/// The shallowest wins, the type before other keywords at the same depth, then the first in the
/// crate's order: an object's missing field or unknown field is reported before a problem inside one of
/// its fields, as a form would show it.
pub(super) fn first_problem(site: &Site<'_>, errors: ErrorIterator<'_>) -> Invalid {
    let errors: Vec<ValidationError<'_>> = errors.take(CONSIDERED).collect();
    let problem = choose(site, &errors).unwrap_or_else(|| Problem {
        path: site.path.to_vec(),
        message: format!("{} does not match the request schema", name(site.path)),
    });
    let message = match tensor_hint(site.root, &problem.path) {
        Some(hint) => format!("{}; {hint}", problem.message),
        None => problem.message,
    };
    Invalid {
        path: render(&problem.path),
        message,
    }
}

/// For a problem inside a tensor field (one whose schema carries `x-easymlserve-tensor`, as an ONNX
/// model's do), what the whole tensor must be: `` `X` is FP32 of shape [N, 10] ``.
fn tensor_hint(root: &Value, path: &[Seg]) -> Option<String> {
    let Some(Seg::Key(field)) = path.first() else {
        return None;
    };
    let tensor = root.get("properties")?.get(field)?.get("x-easymlserve-tensor")?;
    let datatype = tensor.get("datatype")?.as_str()?;
    let shape = tensor.get("shape")?.as_str()?;
    Some(format!("`{field}` is {datatype} of shape {shape}"))
}

/// A problem before its path is written out.
struct Problem {
    path: Vec<Seg>,
    message: String,
}

/// One step of a path into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

fn choose(site: &Site<'_>, errors: &[ValidationError<'_>]) -> Option<Problem> {
    errors
        .iter()
        .enumerate()
        .min_by_key(|(order, err)| (depth(err), rank(err.kind()), *order))
        .map(|(_, err)| describe(site, err))
}

/// How deep into the value an error sits (an object's errors about its fields count as the object's).
fn depth(err: &ValidationError<'_>) -> usize {
    err.instance_path().as_str().matches('/').count()
}

/// Among errors at the same place, the value's type comes first, then what it must equal.
fn rank(kind: &ValidationErrorKind) -> u8 {
    match kind {
        ValidationErrorKind::Type { .. } => 0,
        ValidationErrorKind::Constant { .. } | ValidationErrorKind::Enum { .. } => 1,
        ValidationErrorKind::Required { .. } => 2,
        _ => 3,
    }
}

/// The path of an error's value: the checked part's path, then the error's JSON pointer read against
/// the part, so a key that looks like a number stays a key.
fn path_of(site: &Site<'_>, pointer: &str) -> Vec<Seg> {
    let mut path = site.path.to_vec();
    let mut at = Some(site.value);
    for raw in pointer.split('/').skip(1) {
        let token = unescape(raw);
        let seg = match (at, token.parse::<usize>()) {
            (Some(Value::Array(items)), Ok(index)) => {
                at = items.get(index);
                Seg::Index(index)
            }
            (value, _) => {
                at = value.and_then(|v| v.get(&token));
                Seg::Key(token)
            }
        };
        path.push(seg);
    }
    path
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// The keyword of the schema an error comes from, found by following its evaluation path (`$ref`s
/// included) from the validator's schema.
fn keyword<'a>(site: &Site<'a>, evaluation_path: &str) -> Option<&'a Value> {
    let mut node = site.root.pointer(site.pointer.strip_prefix('#')?)?;
    for raw in evaluation_path.split('/').skip(1) {
        let token = unescape(raw);
        node = match (token.as_str(), node) {
            ("$ref", Value::Object(schema)) if schema.get("$ref").is_some_and(Value::is_string) => {
                let target = schema.get("$ref")?.as_str()?.strip_prefix('#')?;
                site.root.pointer(target)?
            }
            (_, Value::Object(schema)) => schema.get(&token)?,
            (_, Value::Array(items)) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

fn render(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Seg::Index(index) => {
                let _ = write!(out, "[{index}]");
            }
        }
    }
    out
}

/// How a message refers to the field: `` `models[1]` ``, or "the request body" at the root.
fn name(path: &[Seg]) -> String {
    if path.is_empty() {
        "the request body".to_owned()
    } else {
        format!("`{}`", render(path))
    }
}

/// Puts one error in words.
fn describe(site: &Site<'_>, err: &ValidationError<'_>) -> Problem {
    let mut path = path_of(site, err.instance_path().as_str());
    let value: &Value = err.instance();
    let keyword = keyword(site, err.evaluation_path().as_str());
    let field = name(&path);
    let message = match err.kind() {
        ValidationErrorKind::Type { kind } => {
            let wanted = keyword.map_or_else(|| type_names(kind), types_in_schema);
            format!("{field} must be {wanted}, got {}", type_name(value))
        }
        ValidationErrorKind::Enum { options } => one_of(&field, literals(options), value),
        ValidationErrorKind::Constant { expected_value } => format!("{field} must be {expected_value}, got {value}"),
        ValidationErrorKind::Minimum { limit } => format!("{field} must be at least {}, got {value}", number(limit)),
        ValidationErrorKind::Maximum { limit } => format!("{field} must be at most {}, got {value}", number(limit)),
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("{field} must be greater than {}, got {value}", number(limit))
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            format!("{field} must be less than {}, got {value}", number(limit))
        }
        ValidationErrorKind::MultipleOf { multiple_of } => {
            format!("{field} must be a multiple of {}, got {value}", float(*multiple_of))
        }
        ValidationErrorKind::MinLength { limit } => {
            format!("{field} needs at least {limit} characters, got {}", chars(value))
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!("{field} takes at most {limit} characters, got {}", chars(value))
        }
        ValidationErrorKind::Pattern { pattern } => {
            format!("{field} must match the pattern `{pattern}`, got {value}")
        }
        ValidationErrorKind::Format { format } => format!("{field} must be {}, got {value}", format_words(format)),
        ValidationErrorKind::MinItems { limit } => format!("{field} needs at least {limit} items, got {}", len(value)),
        ValidationErrorKind::MaxItems { limit } => format!("{field} takes at most {limit} items, got {}", len(value)),
        ValidationErrorKind::AdditionalItems { limit } => {
            format!("{field} takes at most {limit} items, got {}", len(value))
        }
        ValidationErrorKind::UniqueItems => match repeated(value) {
            Some((first, second)) => format!("{field} must not repeat items: items {first} and {second} are equal"),
            None => format!("{field} must not repeat items"),
        },
        ValidationErrorKind::Contains => format!("{field} must contain an item that fits its item schema"),
        ValidationErrorKind::MinProperties { limit } => {
            format!("{field} needs at least {limit} fields, got {}", len(value))
        }
        ValidationErrorKind::MaxProperties { limit } => {
            format!("{field} takes at most {limit} fields, got {}", len(value))
        }
        ValidationErrorKind::Required { property } => {
            path.push(Seg::Key(
                property.as_str().map_or_else(|| property.to_string(), str::to_owned),
            ));
            format!("{} is required", name(&path))
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            if let Some(first) = unexpected.first() {
                path.push(Seg::Key(first.clone()));
            }
            format!("{} is not a known field", name(&path))
        }
        ValidationErrorKind::UnevaluatedItems { .. } => format!("{field} has more items than its schema describes"),
        ValidationErrorKind::PropertyNames { error } => {
            let key = error.instance();
            let inner = describe(
                &Site {
                    path: &[],
                    value: key,
                    ..*site
                },
                error,
            )
            .message;
            let why = inner.strip_prefix("the request body ").unwrap_or(&inner).to_owned();
            path.push(Seg::Key(key.as_str().map_or_else(|| key.to_string(), str::to_owned)));
            format!("{} is not an allowed field name: it {why}", name(&path))
        }
        ValidationErrorKind::FalseSchema => format!("{field} is not allowed"),
        ValidationErrorKind::Not { schema } => format!("{field} must not be {}", negated(schema)),
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            return match keyword
                .and_then(Value::as_array)
                .and_then(|options| literal_options(options))
            {
                Some(allowed) => Problem {
                    message: one_of(&field, allowed, value),
                    path,
                },
                None => furthest(site, depth(err), context).unwrap_or(Problem {
                    message: format!("{field} matches none of its alternatives"),
                    path,
                }),
            };
        }
        ValidationErrorKind::OneOfMultipleValid { context } => {
            let matched = context.iter().filter(|errors| errors.is_empty()).count();
            format!(
                "{field} must match exactly one of {} alternatives, matched {matched}",
                context.len()
            )
        }
        ValidationErrorKind::Referencing(err) => {
            format!("the request schema has a reference that does not resolve: {err}")
        }
        ValidationErrorKind::Custom { message, .. } => format!("{field}: {message}"),
        _ => format!("{field} is invalid: {err}"),
    };
    Problem { path, message }
}

/// Of the alternatives of an `anyOf` or `oneOf`, the problem of the one the client most likely meant:
/// one whose type fits before one whose type does not, one whose tag (a `const` or `enum` inside the
/// value) fits before one whose tag does not, then the one that got furthest into the value, then the
/// first.
fn furthest(site: &Site<'_>, at: usize, context: &[Vec<ValidationError<'static>>]) -> Option<Problem> {
    let mut best: Option<(u8, Problem)> = None;
    for errors in context {
        let Some(problem) = choose(site, errors) else {
            continue;
        };
        let misfit = errors
            .iter()
            .map(|err| match err.kind() {
                ValidationErrorKind::Type { .. } if depth(err) == at => 2,
                ValidationErrorKind::Constant { .. } | ValidationErrorKind::Enum { .. } if depth(err) > at => 1,
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        let better = best.as_ref().is_none_or(|(best_misfit, best)| {
            misfit < *best_misfit || (misfit == *best_misfit && problem.path.len() > best.path.len())
        });
        if better {
            best = Some((misfit, problem));
        }
    }
    best.map(|(_, problem)| problem)
}

fn one_of(field: &str, allowed: Vec<&Value>, value: &Value) -> String {
    let listed: Vec<String> = allowed.iter().map(|v| v.to_string()).collect();
    format!("{field} must be one of {}, got {value}", listed.join(", "))
}

fn literals(options: &Value) -> Vec<&Value> {
    options
        .as_array()
        .map_or_else(|| vec![options], |values| values.iter().collect())
}

/// The values allowed when every alternative is a plain `const` or `enum` (a documented enum).
fn literal_options(options: &[Value]) -> Option<Vec<&Value>> {
    let mut allowed = Vec::new();
    for option in options {
        let option = option.as_object()?;
        if let Some(value) = option.get("const") {
            allowed.push(value);
        } else {
            allowed.extend(option.get("enum")?.as_array()?);
        }
    }
    Some(allowed)
}

/// What a `not` schema forbids, in words when it is a simple one.
fn negated(schema: &Value) -> String {
    if let Some(value) = schema.get("const") {
        return value.to_string();
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let listed: Vec<String> = values.iter().map(Value::to_string).collect();
        return format!("one of {}", listed.join(", "));
    }
    if let (Some(wanted), 1) = (schema.get("type"), schema.as_object().map_or(0, |o| o.len())) {
        return types_in_schema(wanted);
    }
    format!("a value that matches `{schema}`")
}
