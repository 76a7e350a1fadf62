//! Conformance checks for users, grants, site groups and scoped tokens
//! (migration 5).

use patchwatch_auth::{Access, Action, Role, TokenAccess, TokenScope};
use patchwatch_store::users::directory;
use patchwatch_store::{
    HostFilter, NewGrant, NewToken, NewUser, StoreError, TokenKind, users::ORIGIN_LOCAL,
};

use crate::{Db, fleet, ingest};

fn grant(role: Role, site: Option<&str>, group: Option<&str>) -> NewGrant {
    NewGrant {
        role,
        site: site.map(Into::into),
        group: group.map(Into::into),
    }
}

pub async fn users_groups_and_grants(db: Db) {
    let a = db.create_site("A").await.unwrap();
    let b = db.create_site("B").await.unwrap();
    let c = db.create_site("C").await.unwrap();
    let ngi = db.add_site_group("NGI_X", None).await.unwrap();
    let child = db.add_site_group("NGI_X_T2", Some("NGI_X")).await.unwrap();
    assert_eq!(child.parent.as_deref(), Some("NGI_X"));
    // One level of nesting only, and every name is checked.
    assert!(matches!(
        db.add_site_group("DEEP", Some("NGI_X_T2")).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        db.add_site_group("ORPHAN", Some("nope")).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        db.add_site_group("NGI_X", None).await,
        Err(StoreError::AlreadyExists(_))
    ));
    db.set_group_member("NGI_X", "A", true).await.unwrap();
    db.set_group_member("NGI_X", "A", true).await.unwrap();
    db.set_group_member("NGI_X_T2", "B", true).await.unwrap();
    assert!(matches!(
        db.set_group_member("NGI_X", "nope", true).await,
        Err(StoreError::NotFound(_))
    ));
    let groups = db.site_groups().await.unwrap();
    let names: Vec<(&str, &[String])> = groups
        .iter()
        .map(|g| (g.name.as_str(), g.sites.as_slice()))
        .collect();
    assert_eq!(
        names,
        [
            ("NGI_X", &["A".to_owned()][..]),
            ("NGI_X_T2", &["B".to_owned()][..])
        ]
    );
    assert_eq!(groups[0].id, ngi.id);

    let alice = db
        .add_user(&NewUser {
            name: "alice".into(),
            password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
            origin: ORIGIN_LOCAL.into(),
        })
        .await
        .unwrap();
    assert!(alice.has_password && alice.grants.is_empty());
    assert!(matches!(
        db.add_user(&NewUser {
            name: "alice".into(),
            password_hash: None,
            origin: ORIGIN_LOCAL.into(),
        })
        .await,
        Err(StoreError::AlreadyExists(_))
    ));
    db.grant("alice", &grant(Role::Viewer, None, Some("NGI_X")))
        .await
        .unwrap();
    db.grant("alice", &grant(Role::Triager, Some("C"), None))
        .await
        .unwrap();
    assert!(matches!(
        db.grant("alice", &grant(Role::Triager, Some("C"), None))
            .await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        db.grant("alice", &grant(Role::Admin, Some("C"), None))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        db.grant("bob", &grant(Role::Admin, None, None)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        db.grant("alice", &grant(Role::Viewer, Some("nope"), None))
            .await,
        Err(StoreError::NotFound(_))
    ));

    // What the grants mean, through the one decision function.
    let alice = db.user("alice").await.unwrap().unwrap();
    let access = Access::from_grants(&alice.grants(), &directory(&groups));
    assert!(access.allows(Action::Read, a.id) && access.allows(Action::Read, b.id));
    assert!(access.allows(Action::Triage, c.id) && !access.allows(Action::Triage, a.id));
    assert!(!access.allows_everywhere(Action::Read));

    assert!(
        db.revoke("alice", &grant(Role::Triager, Some("C"), None))
            .await
            .unwrap()
    );
    assert!(
        !db.revoke("alice", &grant(Role::Triager, Some("C"), None))
            .await
            .unwrap()
    );
    assert!(db.set_password("alice", None).await.unwrap());
    assert!(!db.set_password("nobody", None).await.unwrap());
    let alice = db.user("alice").await.unwrap().unwrap();
    assert!(!alice.has_password);
    assert_eq!(alice.grants.len(), 1);
    assert_eq!(alice.grants[0].group.as_deref(), Some("NGI_X"));

    // Removing a group removes its children and the grants on it.
    assert!(db.remove_site_group("NGI_X").await.unwrap());
    assert!(db.site_groups().await.unwrap().is_empty());
    assert!(db.user("alice").await.unwrap().unwrap().grants.is_empty());
    assert!(db.remove_user("alice").await.unwrap());
    assert!(!db.remove_user("alice").await.unwrap());
    assert!(db.users().await.unwrap().is_empty());
}

pub async fn scoped_tokens_and_host_scope(db: Db) {
    let a = db.create_site("A").await.unwrap();
    let b = db.create_site("B").await.unwrap();
    db.add_site_group("G", None).await.unwrap();
    db.set_group_member("G", "B", true).await.unwrap();
    let group = db.site_groups().await.unwrap().pop().unwrap();
    let user = db
        .add_user(&NewUser {
            name: "CN=Jane Doe,O=Example".into(),
            password_hash: None,
            origin: "sso".into(),
        })
        .await
        .unwrap();

    // A plain API token reads everywhere; ingest tokens have no access.
    let legacy = db
        .add_token(&NewToken::generate("legacy", TokenKind::Api, None))
        .await
        .unwrap();
    assert_eq!(
        legacy.api_scope(),
        Some((TokenAccess::Read, TokenScope::Everywhere))
    );
    let ingest_token = db
        .add_token(&NewToken::generate("in", TokenKind::Ingest, Some(a.id)))
        .await
        .unwrap();
    assert_eq!(ingest_token.api_scope(), None);
    for (name, access, scope) in [
        ("site", TokenAccess::Triage, TokenScope::Site(a.id)),
        ("group", TokenAccess::Read, TokenScope::Group(group.id)),
        ("user", TokenAccess::Read, TokenScope::User(user.id)),
    ] {
        let new = NewToken::api(name, access, scope);
        let rec = db.add_token(&new).await.unwrap();
        assert_eq!(rec.api_scope(), Some((access, scope)), "{name}");
        let found = db.token_by_hash(&new.hash).await.unwrap().unwrap();
        assert_eq!(found, rec);
    }
    let tokens = db.tokens().await.unwrap();
    let by_name = |n: &str| tokens.iter().find(|t| t.name == n).unwrap().clone();
    assert_eq!(by_name("group").group.as_deref(), Some("G"));
    assert_eq!(
        by_name("user").user.as_deref(),
        Some("CN=Jane Doe,O=Example")
    );
    assert!(matches!(
        db.add_token(&NewToken::api(
            "ghost",
            TokenAccess::Read,
            TokenScope::User(9_999)
        ))
        .await,
        Err(StoreError::NotFound(_))
    ));
    // A user's tokens go with the user.
    db.remove_user("CN=Jane Doe,O=Example").await.unwrap();
    assert!(db.tokens().await.unwrap().iter().all(|t| t.name != "user"));

    // The scope is applied in the query, counts included.
    let fleet = fleet();
    ingest(&db, a.id, fleet.report(1), 1_000).await;
    ingest(&db, b.id, fleet.report(2), 1_000).await;
    ingest(&db, b.id, fleet.report(3), 1_000).await;
    let scoped = |ids: Option<Vec<i64>>| HostFilter {
        site_ids: ids,
        ..HostFilter::default()
    };
    let page = db.hosts(&scoped(Some(vec![b.id]))).await.unwrap();
    assert_eq!(page.total, 2);
    assert!(
        page.items
            .iter()
            .all(|h| h.site == "B" && h.site_id == b.id)
    );
    assert_eq!(db.hosts(&scoped(Some(vec![]))).await.unwrap().total, 0);
    assert_eq!(db.hosts(&scoped(None)).await.unwrap().total, 3);
    let one = db.host(page.items[0].id).await.unwrap().unwrap();
    assert_eq!(one.summary.site_id, b.id);
}
