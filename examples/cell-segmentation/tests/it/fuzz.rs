//! Property-based fuzzing of the image envelope, the one decoder of this service that reads user bytes:
//! any dtype, shape (including overflowing ones) and base64 text gives an image of exactly the shape
//! or a 422-kind error naming `shape` or `image`, and no shape makes it allocate before the check.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cell_segmentation::envelope::{ImageRequest, InputDtype, Limits};
use easymlserve::prelude::*;
use proptest::prelude::*;

/// Dimensions: mostly small and plausible, sometimes zero, huge or at the edge of overflow.
fn dimension() -> impl Strategy<Value = u64> {
    prop_oneof![
        8 => 0u64..80,
        1 => Just(100_000u64),
        1 => Just(u64::MAX),
        1 => Just(u64::MAX / 2 + 1),
        1 => Just(1u64 << 32),
    ]
}

/// The image text: valid base64 of about the right size, of random size, or not base64 at all.
fn image_text(len_hint: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), len_hint..=len_hint).prop_map(|b| STANDARD.encode(b)),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| STANDARD.encode(b)),
        "[A-Za-z0-9+/=!@ ]{0,64}",
    ]
}

fn request() -> impl Strategy<Value = ImageRequest> {
    (
        prop_oneof![Just(InputDtype::Uint8), Just(InputDtype::Uint16)],
        prop::collection::vec(dimension(), 0..5),
    )
        .prop_flat_map(|(dtype, shape)| {
            let hint = shape
                .iter()
                .try_fold(dtype_size(dtype), |acc, d| acc.checked_mul(*d as usize))
                .filter(|n| *n <= 64 * 1024)
                .unwrap_or(16);
            image_text(hint).prop_map(move |image| ImageRequest {
                dtype,
                shape: shape.clone(),
                image,
            })
        })
}

fn dtype_size(dtype: InputDtype) -> usize {
    match dtype {
        InputDtype::Uint8 => 1,
        InputDtype::Uint16 => 2,
    }
}

proptest! {
    #[test]
    fn the_envelope_decodes_to_its_shape_or_names_the_field(request in request()) {
        match request.decode(&Limits::default()) {
            Ok(image) => {
                prop_assert_eq!(image.pixels.len(), image.width * image.height);
                prop_assert_eq!(request.shape[0] as usize, image.height);
                prop_assert_eq!(request.shape[1] as usize, image.width);
            }
            Err(ServiceError::InvalidInput { field, message }) => {
                prop_assert!(matches!(field.as_deref(), Some("shape" | "image")), "{:?}: {}", field, message);
            }
            Err(other) => prop_assert!(false, "not a caller error: {}", other),
        }
    }

    #[test]
    fn arbitrary_json_never_panics_the_request_type(text in "[\\[\\]{}\":,0-9a-z ]{0,80}") {
        if let Ok(request) = serde_json::from_str::<ImageRequest>(&text) {
            let _ = request.decode(&Limits::default());
        }
    }
}

#[test]
fn a_100000_square_shape_is_refused_before_allocating() {
    let request = ImageRequest {
        dtype: InputDtype::Uint16,
        shape: vec![100_000, 100_000],
        image: STANDARD.encode([0u8; 8]),
    };
    let Err(ServiceError::InvalidInput { field, message }) = request.decode(&Limits::default()) else {
        panic!("accepted");
    };
    assert_eq!(field.as_deref(), Some("shape"), "{message}");
}
