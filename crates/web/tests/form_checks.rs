//! Every administration, tag and exception form goes through the same
//! checks, in the same order, with the same answers: no session, the login
//! page; a form without its CSRF token or a field, 400 naming it; a wrong
//! token, 403; a user without the right, 403 naming it. Nothing a refused
//! post names is changed.

mod common;

use common::{Browser, PASSWORD, Running, start};
use patchwatch_auth::{TokenAccess, TokenScope};
use patchwatch_store::users::ORIGIN_LOCAL;
use patchwatch_store::{NewAssignment, NewException, NewToken, NewUser};
use reqwest::StatusCode;

/// Who may send a form, and what the others are told.
#[derive(Clone, Copy)]
enum Right {
    Admin,
    TagManager,
    Reader,
}

impl Right {
    /// A user logged in without this right, and the refusal's words.
    fn refused(self) -> (&'static str, &'static str) {
        match self {
            Right::Admin => ("site", "the administration pages needs the admin role"),
            Right::TagManager => (
                "site",
                "managing CVE tags needs triage rights on every site",
            ),
            Right::Reader => ("nobody", "has no role on any site"),
        }
    }
}

/// A form: who may send it, where, fields that would be accepted, and a
/// required field besides the token (`None` when the token is the only
/// field).
type Form = (
    Right,
    String,
    Vec<(&'static str, &'static str)>,
    Option<&'static str>,
);

fn forms(exception: i64) -> Vec<Form> {
    vec![
        (
            Right::Admin,
            "/admin/users".into(),
            vec![("name", "mallory"), ("password", PASSWORD)],
            Some("name"),
        ),
        (
            Right::Admin,
            "/admin/users/viewer/remove".into(),
            vec![],
            None,
        ),
        (
            Right::Admin,
            "/admin/grant".into(),
            vec![("user", "viewer"), ("role", "admin")],
            Some("role"),
        ),
        (
            Right::Admin,
            "/admin/users/viewer/revoke".into(),
            vec![("role", "viewer"), ("site", "OTHER")],
            Some("role"),
        ),
        (
            Right::Admin,
            "/admin/tokens".into(),
            vec![
                ("name", "stolen"),
                ("access", "triage"),
                ("scope", "everywhere"),
            ],
            Some("name"),
        ),
        (
            Right::Admin,
            "/admin/tokens/live/revoke".into(),
            vec![],
            None,
        ),
        (
            Right::Admin,
            "/admin/tokens/dead/delete".into(),
            vec![],
            None,
        ),
        (
            Right::TagManager,
            "/tags".into(),
            vec![("name", "mine"), ("reason", "mine")],
            Some("name"),
        ),
        (
            Right::TagManager,
            "/tags/assign".into(),
            vec![("tag", "kept"), ("cve", "CVE-2024-0001")],
            Some("tag"),
        ),
        (Right::TagManager, "/tags/kept/disable".into(), vec![], None),
        (Right::TagManager, "/tags/kept/remove".into(), vec![], None),
        (
            Right::TagManager,
            "/tags/kept/cves/CVE-2024-12797/remove".into(),
            vec![],
            None,
        ),
        (
            Right::Reader,
            "/exceptions".into(),
            vec![
                ("host_id", "1"),
                ("cve", "CVE-2024-0001"),
                ("package", "openssl"),
                ("version", "1"),
                ("site", "SITE"),
                ("reason", "mine"),
            ],
            Some("host_id"),
        ),
        (
            Right::Reader,
            format!("/exceptions/{exception}/remove"),
            vec![],
            None,
        ),
    ]
}

/// A token of each state, a tag with a CVE, an exception on SITE, and a
/// user without any role; returns the exception's id.
async fn something_to_change(s: &Running) -> i64 {
    for name in ["live", "dead"] {
        let token = NewToken::api(name, TokenAccess::Read, TokenScope::Everywhere);
        s.db.add_token(&token).await.unwrap();
    }
    s.db.revoke_token("dead", None).await.unwrap();
    s.db.add_tag("kept", "kept").await.unwrap();
    s.db.assign_tag(&NewAssignment {
        cve: "CVE-2024-12797".into(),
        tag: "kept".into(),
        reason: "kept".into(),
        author: "test".into(),
    })
    .await
    .unwrap();
    s.db.add_user(&NewUser {
        name: "nobody".into(),
        password_hash: Some(patchwatch_auth::password::hash(PASSWORD).unwrap()),
        origin: ORIGIN_LOCAL.into(),
    })
    .await
    .unwrap();
    s.db.add_exception(&NewException {
        cve: "CVE-2024-12797".into(),
        package: "openssl".into(),
        version: "1".into(),
        os_group: None,
        site: Some("SITE".into()),
        reason: "kept".into(),
        author: "test".into(),
        expires_at: None,
    })
    .await
    .unwrap()
    .id
}

/// The CSRF token of a browser's session, from the store: a user without
/// any role sees no page that carries it.
async fn session_csrf(s: &Running, b: &Browser) -> String {
    let cookie = b.cookie.as_deref().expect("logged in");
    let (_, secret) = cookie.split_once('=').unwrap();
    s.db.session(&patchwatch_store::token::hash(secret))
        .await
        .unwrap()
        .expect("a live session")
        .csrf_token
}

/// Everything the forms change, as text to compare.
async fn stored(s: &Running) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        s.db.users().await.unwrap(),
        s.db.tokens().await.unwrap(),
        s.db.tags().await.unwrap(),
        s.db.tag_assignments().await.unwrap(),
        s.db.exceptions().await.unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_forms_answer_alike_and_change_nothing() {
    let s = start().await;
    let exception = something_to_change(&s).await;
    let before = stored(&s).await;
    let mut admin = s.browser();
    admin.login("admin").await;
    let csrf = admin.get("/tags").await.csrf();
    let mut anonymous = s.browser();

    for (right, path, fields, required) in forms(exception) {
        let r = anonymous.post(&path, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
        assert_eq!(r.location(), "/login", "{path}");

        let r = admin.post(&path, &fields).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
        assert!(
            r.body.contains("the form is incomplete: ") && r.body.contains("missing field `csrf`"),
            "{path}: {}",
            r.body
        );

        let mut wrong: Vec<(&str, &str)> = fields.clone();
        wrong.push(("csrf", "wrong"));
        let r = admin.post(&path, &wrong).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
        assert!(
            r.body.contains("CSRF token does not match this session"),
            "{path}: {}",
            r.body
        );

        if let Some(field) = required {
            let mut incomplete: Vec<(&str, &str)> = fields
                .iter()
                .filter(|(k, _)| *k != field)
                .cloned()
                .collect();
            incomplete.push(("csrf", &csrf));
            let r = admin.post(&path, &incomplete).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
            assert!(
                r.body.contains(&format!("missing field `{field}`")),
                "{path}: {}",
                r.body
            );
        }

        let (user, refusal) = right.refused();
        let mut b = s.browser();
        b.login(user).await;
        let their_csrf = session_csrf(&s, &b).await;
        let mut theirs: Vec<(&str, &str)> = fields.clone();
        theirs.push(("csrf", &their_csrf));
        let r = b.post(&path, &theirs).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
        assert!(r.body.contains(refusal), "{path}: {}", r.body);
    }
    assert_eq!(stored(&s).await, before);

    // A malformed path is named before anything else is looked at.
    let r = admin
        .post("/exceptions/abc/remove", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.body.contains("an exception id is a whole number"),
        "{}",
        r.body
    );
    let r = admin
        .post("/exceptions", &[("csrf", &csrf), ("host_id", "one")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("the form is incomplete: "), "{}", r.body);
    assert_eq!(stored(&s).await, before);
}
