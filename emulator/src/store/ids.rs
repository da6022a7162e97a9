//! Identifier shapes Ironclad uses: 24-hex object ids, UUIDs, short document slugs, and
//! opaque token strings.

use rand::Rng;

/// Lower-case hex of `bytes` random bytes.
pub fn hex(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

/// A 24-hex id as used for workflows, templates, users and companies.
pub fn object_id() -> String {
    hex(12)
}

/// A random (version 4) UUID.
pub fn uuid() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A short alphanumeric slug like document keys (`rJklwCHQ`).
pub fn slug(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Prefix of every credential the emulator issues, so a test can search any output for
/// one (`emu_` and 40 hex digits); Ironclad's tokens are opaque, so no client relies on
/// their shape.
pub const TOKEN_PREFIX: &str = "emu_";

/// An opaque bearer/refresh token or authorization code.
pub fn token() -> String {
    format!("{TOKEN_PREFIX}{}", hex(20))
}

/// Whether `s` is a UUID in canonical 8-4-4-4-12 hex form (any version).
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|c| c.is_ascii_hexdigit()))
}

/// Whether `s` is a 24-hex object id.
pub fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(is_uuid(&uuid()));
        assert!(is_object_id(&object_id()));
        assert!(!is_uuid("not-a-uuid"));
        assert_eq!(slug(8).len(), 8);
        assert_ne!(token(), token());
    }
}
