//! Integers as JSON Schema counts them: any JSON number without a fractional part, so `3.0`
//! is the integer 3 (2020-12 §6.1.1). The validator accepts `{"max_items": 3.0}` as an
//! integer; every place that uses an integer (inputs, schema keywords, Ironclad's counts)
//! reads it here, so what validation accepts is what the call uses.

use serde_json::{Number, Value};

/// 2^64 and 2^63 as floats: the first integers past `u64` and `i64`.
const TWO_64: f64 = 18_446_744_073_709_551_616.0;
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

/// The value as a `u64`: a non-negative integer (`3`, `3.0`) within 64 bits.
pub fn as_u64(value: &Value) -> Option<u64> {
    let Value::Number(n) = value else {
        return None;
    };
    if let Some(u) = n.as_u64() {
        return Some(u);
    }
    let f = integral(n)?;
    // -0.0 is 0; the float is integral, so the cast is exact.
    (f > -1.0 && f < TWO_64).then_some(f as u64)
}

/// The value as an `i64`: an integer (`-3`, `-3.0`) within 64 bits.
pub fn as_i64(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else {
        return None;
    };
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = integral(n)?;
    (-TWO_63..TWO_63).contains(&f).then_some(f as i64)
}

/// An integer the connector can use: a JSON Schema integer within 64 bits (signed or not).
/// `1e300` is integral too, but no id, count or size is that large; the validator refuses it
/// rather than let a call read it as something else.
pub fn is_integer(value: &Value) -> bool {
    as_i64(value).is_some() || as_u64(value).is_some()
}

/// A number as a path segment, query value or header holds it: an integer without a
/// fraction (`7.0` → `7`, so `/groups/7.0` is never sent), other numbers as JSON writes them.
pub fn text(n: &Number) -> String {
    let value = Value::Number(n.clone());
    match (as_i64(&value), as_u64(&value)) {
        (Some(i), _) => i.to_string(),
        (None, Some(u)) => u.to_string(),
        _ => n.to_string(),
    }
}

/// A float without a fractional part.
fn integral(n: &Number) -> Option<f64> {
    n.as_f64().filter(|f| f.is_finite() && f.fract() == 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integral_floats_are_integers() {
        assert_eq!(as_u64(&json!(3.0)), Some(3));
        assert_eq!(as_u64(&json!(3)), Some(3));
        assert_eq!(as_u64(&json!(-0.0)), Some(0));
        assert_eq!(as_u64(&json!(u64::MAX)), Some(u64::MAX));
        assert_eq!(as_i64(&json!(-3.0)), Some(-3));
        assert_eq!(as_i64(&json!(i64::MIN)), Some(i64::MIN));
        for not in [json!(3.5), json!(-1), json!(1e20), json!("3"), json!(null)] {
            assert_eq!(as_u64(&not), None, "{not}");
        }
        assert_eq!(as_i64(&json!(1e19)), None);
        assert!(is_integer(&json!(1e19)) && !is_integer(&json!(1e20)));
        assert!(!is_integer(&json!(0.5)));
    }

    #[test]
    fn numbers_are_written_without_a_zero_fraction() {
        let text_of = |v: Value| match v {
            Value::Number(n) => text(&n),
            _ => unreachable!(),
        };
        assert_eq!(text_of(json!(7.0)), "7");
        assert_eq!(text_of(json!(-7.0)), "-7");
        assert_eq!(text_of(json!(7)), "7");
        assert_eq!(text_of(json!(1.5)), "1.5");
        assert_eq!(text_of(json!(1e300)), "1e+300");
    }
}
