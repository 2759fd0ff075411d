//! How bearer shows a URL: without user info or query, which may carry
//! credentials.

/// The token URL without query or user info, for `instance`.
pub fn endpoint_for_display(url: &str) -> String {
    match url.parse::<ureq::http::Uri>() {
        Ok(uri) => {
            let host = uri.host().unwrap_or_default();
            let port = uri
                .port()
                .map(|port| format!(":{port}"))
                .unwrap_or_default();
            format!(
                "{}://{host}{port}{}",
                uri.scheme_str().unwrap_or("https"),
                uri.path()
            )
        }
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_displayed_endpoint_drops_query_and_user_info() {
        assert_eq!(
            endpoint_for_display("https://user:pw@login.example.com:8443/oauth/token?key=v"),
            "https://login.example.com:8443/oauth/token"
        );
    }
}
