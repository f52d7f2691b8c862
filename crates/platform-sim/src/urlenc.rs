//! The two bits of `application/x-www-form-urlencoded` the sim needs outside actix's
//! extractors: encoding parameters appended to a client's redirect URI, and decoding the
//! client id and secret inside HTTP Basic credentials (RFC 6749 §2.3.1 encodes them first).

/// Appends `params` to `uri`, after an existing query if it has one.
pub(crate) fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = String::from(uri);
    let mut separator = if uri.contains('?') { '&' } else { '?' };
    for (name, value) in params {
        out.push(separator);
        out.push_str(&encode(name));
        out.push('=');
        out.push_str(&encode(value));
        separator = '&';
    }
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `+` and `%XX`; `None` for a malformed escape or a result that is not UTF-8.
pub(crate) fn decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = value.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_appended_after_an_existing_query() {
        assert_eq!(
            with_query("http://a/cb?x=1", &[("code", "c"), ("state", "s t/&")]),
            "http://a/cb?x=1&code=c&state=s%20t%2F%26"
        );
        assert_eq!(
            with_query("http://a/cb", &[("error", "access_denied")]),
            "http://a/cb?error=access_denied"
        );
    }

    #[test]
    fn decoding_inverts_encoding_and_rejects_bad_escapes() {
        let original = "client id:with/odd+chars é";
        assert_eq!(decode(&encode(original)).as_deref(), Some(original));
        assert_eq!(decode("a+b%21").as_deref(), Some("a b!"));
        assert_eq!(decode("%zz"), None);
        assert_eq!(decode("%4"), None);
    }
}
