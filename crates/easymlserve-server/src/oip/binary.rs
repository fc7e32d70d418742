//! The binary-data extension of the inference protocol: raw little-endian tensors after the JSON
//! header, `BOOL` as one byte, `BYTES` as a 4-byte length then the bytes per element. Decoding trusts
//! no size: every length is checked against the bytes actually present before anything is allocated,
//! so lying sizes, overflowing shapes and truncated bodies are refusals, never panics or huge buffers.

use half::f16;

use super::tensor::{Tensor, TensorData, each, element_count};
use super::{DataType, TensorError};

/// Why raw tensor bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinaryError {
    /// A fixed-size type's bytes do not match the shape.
    #[error("{datatype} of shape {shape:?} takes {expected} bytes, got {got}")]
    Size {
        /// The element type.
        datatype: DataType,
        /// The shape.
        shape: Vec<usize>,
        /// Bytes the shape takes.
        expected: String,
        /// Bytes given.
        got: usize,
    },
    /// A `BYTES` element runs past the end, or bytes are left over.
    #[error("{0}")]
    Bytes(String),
    /// A `BOOL` byte is not 0 or 1.
    #[error("BOOL element {0} is neither 0 nor 1")]
    Bool(usize),
    /// The shape does not fit in memory's address range.
    #[error(transparent)]
    Tensor(#[from] TensorError),
}

/// Reads a tensor of `datatype` and `shape` from its raw bytes.
pub fn decode(datatype: DataType, shape: Vec<usize>, raw: &[u8]) -> Result<Tensor, BinaryError> {
    let count = element_count(&shape).ok_or_else(|| TensorError::TooLarge(shape.clone()))?;
    let size = datatype.size().unwrap_or(0);
    if datatype != DataType::Bytes && count.checked_mul(size) != Some(raw.len()) {
        let expected = count
            .checked_mul(size)
            .map_or_else(|| "more than 2^64".to_owned(), |n| n.to_string());
        return Err(BinaryError::Size {
            datatype,
            shape,
            expected,
            got: raw.len(),
        });
    }
    macro_rules! le {
        ($t:ty, $n:literal) => {
            raw.chunks_exact($n)
                .map(|c| <$t>::from_le_bytes(c.try_into().unwrap_or([0; $n])))
                .collect()
        };
    }
    let data = match datatype {
        DataType::Bool => TensorData::Bool(
            raw.iter()
                .enumerate()
                .map(|(i, &b)| match b {
                    0 => Ok(false),
                    1 => Ok(true),
                    _ => Err(BinaryError::Bool(i)),
                })
                .collect::<Result<_, _>>()?,
        ),
        DataType::Uint8 => TensorData::Uint8(raw.to_vec()),
        DataType::Int8 => TensorData::Int8(raw.iter().map(|&b| b as i8).collect()),
        DataType::Uint16 => TensorData::Uint16(le!(u16, 2)),
        DataType::Int16 => TensorData::Int16(le!(i16, 2)),
        DataType::Fp16 => TensorData::Fp16(raw.chunks_exact(2).map(|c| f16::from_le_bytes([c[0], c[1]])).collect()),
        DataType::Uint32 => TensorData::Uint32(le!(u32, 4)),
        DataType::Int32 => TensorData::Int32(le!(i32, 4)),
        DataType::Fp32 => TensorData::Fp32(le!(f32, 4)),
        DataType::Uint64 => TensorData::Uint64(le!(u64, 8)),
        DataType::Int64 => TensorData::Int64(le!(i64, 8)),
        DataType::Fp64 => TensorData::Fp64(le!(f64, 8)),
        DataType::Bytes => TensorData::Bytes(decode_bytes(count, raw)?),
    };
    Ok(Tensor::new(shape, data)?)
}

fn decode_bytes(count: usize, raw: &[u8]) -> Result<Vec<Vec<u8>>, BinaryError> {
    // Every element takes at least its 4-byte length: a count above that is a lie, refused before
    // the vector is allocated.
    if count > raw.len() / 4 {
        return Err(BinaryError::Bytes(format!(
            "{count} BYTES elements need at least {} bytes, got {}",
            count.saturating_mul(4),
            raw.len()
        )));
    }
    let mut out = Vec::with_capacity(count);
    let mut rest = raw;
    for i in 0..count {
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            return Err(BinaryError::Bytes(format!("BYTES element {i} has no 4-byte length")));
        };
        let len = u32::from_le_bytes(*len) as usize;
        if len > tail.len() {
            return Err(BinaryError::Bytes(format!(
                "BYTES element {i} says {len} bytes, only {} remain",
                tail.len()
            )));
        }
        let (element, tail) = tail.split_at(len);
        out.push(element.to_vec());
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(BinaryError::Bytes(format!(
            "{} bytes are left after the {count} BYTES elements",
            rest.len()
        )));
    }
    Ok(out)
}

/// The raw little-endian bytes of a tensor's elements.
pub fn encode(tensor: &Tensor) -> Vec<u8> {
    let mut out = Vec::new();
    each!(&tensor.data, v => {
        out.reserve(v.len() * tensor.datatype().size().unwrap_or(8));
        for x in v {
            x.put(&mut out);
        }
    });
    out
}

/// Writes one element in the extension's layout.
trait Put {
    fn put(&self, out: &mut Vec<u8>);
}

macro_rules! put_le {
    ($($t:ty),*) => { $(impl Put for $t { fn put(&self, out: &mut Vec<u8>) { out.extend_from_slice(&self.to_le_bytes()) } })* };
}
put_le!(u8, u16, u32, u64, i8, i16, i32, i64, f16, f32, f64);

impl Put for bool {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

/// A `BYTES` element: its length as 4 bytes little-endian, then the bytes.
impl Put for Vec<u8> {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.len() as u32).to_le_bytes());
        out.extend_from_slice(self);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sample(datatype: DataType) -> Tensor {
        let data = match datatype {
            DataType::Bool => TensorData::Bool(vec![true, false, true, true, false, false]),
            DataType::Uint8 => TensorData::Uint8(vec![0, 1, 2, 3, 254, 255]),
            DataType::Uint16 => TensorData::Uint16(vec![0, 1, 2, 3, 4, u16::MAX]),
            DataType::Uint32 => TensorData::Uint32(vec![0, 1, 2, 3, 4, u32::MAX]),
            DataType::Uint64 => TensorData::Uint64(vec![0, 1, 2, 3, 4, u64::MAX]),
            DataType::Int8 => TensorData::Int8(vec![-128, -1, 0, 1, 2, 127]),
            DataType::Int16 => TensorData::Int16(vec![i16::MIN, -1, 0, 1, 2, i16::MAX]),
            DataType::Int32 => TensorData::Int32(vec![i32::MIN, -1, 0, 1, 2, i32::MAX]),
            DataType::Int64 => TensorData::Int64(vec![i64::MIN, -1, 0, 1, 2, i64::MAX]),
            DataType::Fp16 => TensorData::Fp16([0.5f32, -1.0, 0.0, 1.5, 65504.0, -2.25].map(f16::from_f32).to_vec()),
            DataType::Fp32 => TensorData::Fp32(vec![0.1, -1.0, 0.0, 1e-30, f32::MAX, -2.25]),
            DataType::Fp64 => TensorData::Fp64(vec![0.1, -1.0, 0.0, 1e-300, f64::MAX, -2.25]),
            DataType::Bytes => TensorData::Bytes(vec![
                b"".to_vec(),
                b"a".to_vec(),
                "häh".as_bytes().to_vec(),
                vec![0, 255],
                b"xyz".to_vec(),
                b"0123456789".to_vec(),
            ]),
        };
        Tensor::new(vec![2, 3], data).expect("sample tensor")
    }

    #[test]
    fn every_datatype_round_trips() {
        for datatype in DataType::ALL {
            let tensor = sample(datatype);
            let raw = encode(&tensor);
            assert_eq!(
                decode(datatype, vec![2, 3], &raw).expect("decode"),
                tensor,
                "{datatype}"
            );
        }
        assert_eq!(encode(&sample(DataType::Bytes))[..4], [0, 0, 0, 0]);
        assert_eq!(encode(&sample(DataType::Uint16))[10..], [255, 255]);
    }

    #[test]
    fn lying_sizes_are_refused() {
        let err = decode(DataType::Fp32, vec![2, 3], &[0; 23]).expect_err("short");
        assert!(err.to_string().contains("takes 24 bytes, got 23"), "{err}");
        let err = decode(DataType::Fp64, vec![usize::MAX / 4, 8], &[0; 8]).expect_err("overflow");
        assert!(
            err.to_string().contains("too large") || err.to_string().contains("2^64"),
            "{err}"
        );
        let err = decode(DataType::Bytes, vec![1 << 40], &[0; 8]).expect_err("count");
        assert!(err.to_string().contains("need at least"), "{err}");
        let err = decode(DataType::Bytes, vec![1], &[9, 0, 0, 0, 1]).expect_err("element");
        assert!(err.to_string().contains("says 9 bytes"), "{err}");
        let err = decode(DataType::Bytes, vec![1], &[0, 0, 0, 0, 1]).expect_err("left over");
        assert!(err.to_string().contains("left"), "{err}");
        assert_eq!(decode(DataType::Bool, vec![1], &[2]), Err(BinaryError::Bool(0)));
    }

    proptest! {
        /// Any bytes under any type and shape: an answer or a refusal, never a panic, and never more
        /// elements than the bytes could hold.
        #[test]
        fn arbitrary_bytes_never_panic(
            raw in proptest::collection::vec(any::<u8>(), 0..64),
            shape in proptest::collection::vec(prop_oneof![0usize..6, Just(usize::MAX), Just(1usize << 62)], 0..4),
            which in 0usize..13,
        ) {
            let datatype = DataType::ALL[which];
            if let Ok(tensor) = decode(datatype, shape.clone(), &raw) {
                prop_assert!(tensor.data.len() <= raw.len());
                prop_assert_eq!(encode(&tensor), raw);
            }
        }
    }
}
