//! The few HTML pages a browser sees: the consent page, authorization errors that cannot be
//! redirected, a user's public profile and a post's page. Every interpolated value is escaped.

use crate::{posts::SimPost, state::ConsentView, users::UserProfile};

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1f2328}\
h1{font-size:1.3rem}code{background:#f0f2f4;padding:0 .25rem;border-radius:3px}\
button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem;cursor:pointer}\
label{display:block;margin:1rem 0}input{font-size:1rem;padding:.3rem}";

/// The Approve/Deny page for a pending authorization.
pub(crate) fn consent_page(view: &ConsentView) -> String {
    let scopes: String = view
        .scopes
        .iter()
        .map(|s| {
            format!(
                "<li><code>{}</code> — {}</li>",
                escape(s),
                escape(scope_description(s))
            )
        })
        .collect();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize {client} · Sandbox</title><style>{STYLE}</style></head>
<body><main>
<h1>Sandbox: authorize <code>{client}</code></h1>
<p>The application <strong>{client}</strong> asks for access to your sandbox account:</p>
<ul>{scopes}</ul>
<p>After your decision you are sent back to <code>{redirect}</code>.</p>
<form method="post" action="/oauth/authorize/decision">
<input type="hidden" name="request_id" value="{request_id}">
<label>Sign in as <input name="username" value="{user}" required maxlength="32" pattern="[A-Za-z0-9_.\-]+"></label>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</main></body></html>
"#,
        client = escape(&view.client_id),
        redirect = escape(&view.redirect_uri),
        request_id = escape(&view.request_id),
        user = escape(&view.user),
    )
}

/// An authorization error shown to the user because the request cannot be trusted to redirect
/// (RFC 6749 §4.1.2.1: missing client id or an invalid redirect URI).
pub(crate) fn error_page(message: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization error · Sandbox</title><style>{STYLE}</style></head>
<body><main><h1>Authorization error</h1><p>{}</p></main></body></html>
"#,
        escape(message)
    )
}

/// A user's public page (`profile_url`).
pub(crate) fn profile_page(
    profile: &UserProfile,
    posts_count: i64,
    followers_count: i64,
) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{name}</title><style>{STYLE}</style></head>
<body><main><img src="{avatar}" alt="" width="64" height="64">
<h1>{name}</h1><p>@{username} · {followers_count} followers · {posts_count} posts</p></main></body></html>
"#,
        name = escape(&profile.name),
        avatar = escape(&profile.avatar_url),
        username = escape(&profile.username),
    )
}

/// A post's public page (its `url`).
pub(crate) fn post_page(profile: &UserProfile, post: &SimPost) -> String {
    let media = match post.media_ids.len() {
        0 => String::new(),
        1 => "<p>1 attachment</p>".to_owned(),
        n => format!("<p>{n} attachments</p>"),
    };
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{name}: post {id}</title><style>{STYLE}</style></head>
<body><main><p><img src="{avatar}" alt="" width="32" height="32"> <a href="{profile_url}">{name}</a> @{username}</p>
<p style="white-space:pre-wrap">{text}</p>{media}<p><time datetime="{created}">{created}</time></p></main></body></html>
"#,
        name = escape(&profile.name),
        id = escape(&post.id),
        avatar = escape(&profile.avatar_url),
        profile_url = escape(&profile.profile_url),
        username = escape(&profile.username),
        text = escape(&post.text),
        created = post
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

fn scope_description(scope: &str) -> &'static str {
    match scope {
        "profile" => "read your profile and follower counts",
        "publish" => "publish posts as you",
        _ => "unknown",
    }
}

/// Escapes text for HTML element content and double-quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        let view = ConsentView {
            request_id: "r1".into(),
            client_id: "<script>alert(1)</script>".into(),
            redirect_uri: "http://a/cb?x=\"y\"".into(),
            scopes: vec!["profile".into()],
            user: "demo".into(),
        };
        let page = consent_page(&view);
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("http://a/cb?x=&quot;y&quot;"));
    }
}
