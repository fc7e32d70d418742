//! Dynamic batching along the first dimension: several requests' tensors stacked into one run, and
//! the outputs cut back into each request's own rows.

use easymlserve_server::oip::{Tensor, TensorData};

/// Stacks tensors of one type and the same inner dimensions along the first dimension; `None` when
/// they do not agree.
pub(crate) fn stack(parts: Vec<Tensor>) -> Option<Tensor> {
    let mut parts = parts.into_iter();
    let first = parts.next()?;
    let inner = first.shape.get(1..)?.to_vec();
    let mut rows = *first.shape.first()?;
    let mut data = first.data;
    for part in parts {
        if part.shape.get(1..)? != inner.as_slice() {
            return None;
        }
        rows += part.shape[0];
        append(&mut data, part.data)?;
    }
    let mut shape = vec![rows];
    shape.extend(inner);
    Tensor::new(shape, data).ok()
}

fn append(into: &mut TensorData, from: TensorData) -> Option<()> {
    match (into, from) {
        (TensorData::Bool(a), TensorData::Bool(b)) => a.extend(b),
        (TensorData::Uint8(a), TensorData::Uint8(b)) => a.extend(b),
        (TensorData::Uint16(a), TensorData::Uint16(b)) => a.extend(b),
        (TensorData::Uint32(a), TensorData::Uint32(b)) => a.extend(b),
        (TensorData::Uint64(a), TensorData::Uint64(b)) => a.extend(b),
        (TensorData::Int8(a), TensorData::Int8(b)) => a.extend(b),
        (TensorData::Int16(a), TensorData::Int16(b)) => a.extend(b),
        (TensorData::Int32(a), TensorData::Int32(b)) => a.extend(b),
        (TensorData::Int64(a), TensorData::Int64(b)) => a.extend(b),
        (TensorData::Fp16(a), TensorData::Fp16(b)) => a.extend(b),
        (TensorData::Fp32(a), TensorData::Fp32(b)) => a.extend(b),
        (TensorData::Fp64(a), TensorData::Fp64(b)) => a.extend(b),
        (TensorData::Bytes(a), TensorData::Bytes(b)) => a.extend(b),
        _ => return None,
    }
    Some(())
}

/// Cuts `tensor` along its first dimension into pieces of `rows[i]` rows; `None` when the rows do not
/// add up to its first dimension.
pub(crate) fn split(tensor: &Tensor, rows: &[usize]) -> Option<Vec<Tensor>> {
    let (&total, inner) = tensor.shape.split_first()?;
    if rows.iter().sum::<usize>() != total {
        return None;
    }
    let per_row: usize = inner.iter().product();
    let mut start = 0;
    let mut out = Vec::with_capacity(rows.len());
    for &n in rows {
        let range = start * per_row..(start + n) * per_row;
        start += n;
        let data = slice(&tensor.data, range);
        let mut shape = vec![n];
        shape.extend_from_slice(inner);
        out.push(Tensor::new(shape, data).ok()?);
    }
    Some(out)
}

fn slice(data: &TensorData, range: std::ops::Range<usize>) -> TensorData {
    match data {
        TensorData::Bool(v) => TensorData::Bool(v[range].to_vec()),
        TensorData::Uint8(v) => TensorData::Uint8(v[range].to_vec()),
        TensorData::Uint16(v) => TensorData::Uint16(v[range].to_vec()),
        TensorData::Uint32(v) => TensorData::Uint32(v[range].to_vec()),
        TensorData::Uint64(v) => TensorData::Uint64(v[range].to_vec()),
        TensorData::Int8(v) => TensorData::Int8(v[range].to_vec()),
        TensorData::Int16(v) => TensorData::Int16(v[range].to_vec()),
        TensorData::Int32(v) => TensorData::Int32(v[range].to_vec()),
        TensorData::Int64(v) => TensorData::Int64(v[range].to_vec()),
        TensorData::Fp16(v) => TensorData::Fp16(v[range].to_vec()),
        TensorData::Fp32(v) => TensorData::Fp32(v[range].to_vec()),
        TensorData::Fp64(v) => TensorData::Fp64(v[range].to_vec()),
        TensorData::Bytes(v) => TensorData::Bytes(v[range].to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacked_rows_split_back_into_each_requests_own() {
        let a = Tensor::new(vec![1, 2], TensorData::Fp32(vec![1.0, 2.0])).expect("a");
        let b = Tensor::new(vec![2, 2], TensorData::Fp32(vec![3.0, 4.0, 5.0, 6.0])).expect("b");
        let stacked = stack(vec![a.clone(), b.clone()]).expect("stack");
        assert_eq!(stacked.shape, vec![3, 2]);
        assert_eq!(split(&stacked, &[1, 2]), Some(vec![a, b]));
        assert_eq!(split(&stacked, &[1, 1]), None);
        let odd = Tensor::new(vec![1, 3], TensorData::Fp32(vec![0.0; 3])).expect("odd");
        assert_eq!(stack(vec![stacked, odd]), None);
    }
}
