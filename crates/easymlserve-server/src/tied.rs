//! `Accepts`: which request and response types may be attached to a `Server<S>`, so a GUI written for
//! another service is a compile error instead of a failure at run time. It lives here, next to
//! [`Dynamic`], because only this crate can promise that `Dynamic` is no [`Service`] (which lets the
//! two implementations below coexist).

use easymlserve_core::Service;

use crate::server::Dynamic;

/// A server's service type accepts something (a GUI) that sends `Request` and reads `Response`: a typed
/// [`Service`] accepts exactly its own request and response types; [`Dynamic`] (a Python worker, an
/// ONNX file, any backend) accepts every pair, since its types are known only at run time and the GUI
/// talks JSON to it, checked against the loaded schema.
#[diagnostic::on_unimplemented(
    message = "this GUI sends `{Request}` and reads `{Response}`, which are not the request and response types of `{Self}`",
    label = "a GUI for another service",
    note = "a `Ui` attached with `with_ui` must have `type Request = <{Self} as Service>::Request` and `type Response = <{Self} as Service>::Response`"
)]
pub trait Accepts<Request, Response> {}

impl<S: Service> Accepts<S::Request, S::Response> for S {}

impl<Request, Response> Accepts<Request, Response> for Dynamic {}
