//! Conformance checks for CVE tags and exceptions.

use patchwatch_store::{NewAssignment, NewException, StoreError, now_millis};

use crate::Db;

fn assignment(cve: &str, tag: &str) -> NewAssignment {
    NewAssignment {
        cve: cve.into(),
        tag: tag.into(),
        reason: "on the site's list".into(),
        author: "alice".into(),
    }
}

pub async fn tags_and_assignments(db: Db) {
    // Pakiti's defaults exist out of the box.
    let names = |tags: Vec<patchwatch_store::CveTag>| {
        tags.into_iter()
            .map(|t| (t.name, t.enabled, t.cves))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(db.tags().await.unwrap()),
        [("Critical".into(), true, 0), ("High".into(), true, 0)]
    );
    let egi = db.add_tag("EGI", " EGI critical list ").await.unwrap();
    assert_eq!(
        (egi.name.as_str(), egi.reason.as_str(), egi.enabled),
        ("EGI", "EGI critical list", true)
    );
    assert!(matches!(
        db.add_tag("EGI", "").await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        db.add_tag("two words", "").await,
        Err(StoreError::Invalid(_))
    ));

    let a = db
        .assign_tag(&assignment("cve-2024-12797", "EGI"))
        .await
        .unwrap();
    assert_eq!((a.cve.as_str(), a.tag.as_str()), ("CVE-2024-12797", "EGI"));
    db.assign_tag(&assignment("CVE-2023-4863", "EGI"))
        .await
        .unwrap();
    db.assign_tag(&assignment("CVE-2024-12797", "Critical"))
        .await
        .unwrap();
    assert!(matches!(
        db.assign_tag(&assignment("CVE-2024-12797", "EGI")).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let err = db
        .assign_tag(&assignment("CVE-2024-1", "EGI"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("malformed CVE id")),
        "{err}"
    );
    assert!(matches!(
        db.assign_tag(&assignment("CVE-2024-12797", "Nope")).await,
        Err(StoreError::NotFound(m)) if m.contains("Nope")
    ));
    let all: Vec<(String, String)> = db
        .tag_assignments()
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.cve, a.tag))
        .collect();
    assert_eq!(
        all,
        [
            ("CVE-2023-4863".into(), "EGI".into()),
            ("CVE-2024-12797".into(), "Critical".into()),
            ("CVE-2024-12797".into(), "EGI".into()),
        ]
    );

    let off = db.set_tag_enabled("EGI", false).await.unwrap();
    assert!(!off.enabled);
    assert_eq!(off.cves, 2);
    assert!(matches!(
        db.set_tag_enabled("Nope", true).await,
        Err(StoreError::NotFound(_))
    ));

    db.unassign_tag("cve-2023-4863", "EGI").await.unwrap();
    assert!(matches!(
        db.unassign_tag("CVE-2023-4863", "EGI").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        db.unassign_tag("CVE-2023-4863", "Nope").await,
        Err(StoreError::NotFound(_))
    ));

    // Removing a tag takes its assignments with it.
    db.remove_tag("EGI").await.unwrap();
    assert!(matches!(
        db.remove_tag("EGI").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(db.tag_assignments().await.unwrap().len(), 1);
    assert_eq!(db.tags().await.unwrap().len(), 2);
}

fn exception() -> NewException {
    NewException {
        cve: "cve-2024-12797".into(),
        package: "openssl-libs".into(),
        version: "1:3.2.2-6.el9_5".into(),
        os_group: Some("almalinux 9".into()),
        site: None,
        reason: "FIPS build, not exposed".into(),
        author: "alice".into(),
        expires_at: None,
    }
}

pub async fn exceptions_add_list_remove(db: Db) {
    db.create_site("CESNET").await.unwrap();
    let e = db.add_exception(&exception()).await.unwrap();
    assert_eq!(e.cve, "CVE-2024-12797");
    assert_eq!(e.os_group.as_deref(), Some("almalinux 9"));
    assert_eq!(e.site, None);
    assert!(e.expires_at.is_none() && e.is_active(now_millis()));
    assert!(matches!(
        db.add_exception(&exception()).await,
        Err(StoreError::AlreadyExists(_))
    ));

    let in_a_week = now_millis() + 7 * 86_400_000;
    let site = db
        .add_exception(&NewException {
            os_group: None,
            site: Some("CESNET".into()),
            version: "0:3.0.7-25.el9_3".into(),
            expires_at: Some(in_a_week),
            ..exception()
        })
        .await
        .unwrap();
    assert_eq!(site.site.as_deref(), Some("CESNET"));
    assert_eq!(site.version, "3.0.7-25.el9_3", "a zero epoch is dropped");
    assert_eq!(site.expires_at, Some(in_a_week));

    let invalid = |e: NewException| {
        let db = db.clone();
        async move {
            match db.add_exception(&e).await {
                Err(StoreError::Invalid(m)) => m,
                other => panic!("expected Invalid, got {other:?}"),
            }
        }
    };
    assert!(
        invalid(NewException {
            site: Some("CESNET".into()),
            ..exception()
        })
        .await
        .contains("not both")
    );
    assert!(
        invalid(NewException {
            os_group: None,
            ..exception()
        })
        .await
        .contains("OS group or a site")
    );
    assert!(
        invalid(NewException {
            expires_at: Some(now_millis() - 1000),
            ..exception()
        })
        .await
        .contains("in the past")
    );
    assert!(
        invalid(NewException {
            cve: "CVE-2024".into(),
            ..exception()
        })
        .await
        .contains("malformed CVE id")
    );
    assert!(matches!(
        db.add_exception(&NewException {
            os_group: None,
            site: Some("NOPE".into()),
            ..exception()
        })
        .await,
        Err(StoreError::NotFound(m)) if m.contains("NOPE")
    ));

    let all = db.exceptions().await.unwrap();
    assert_eq!(
        all.iter().map(|x| x.id).collect::<Vec<_>>(),
        [e.id, site.id]
    );
    assert_eq!(all[1], site);
    db.remove_exception(e.id).await.unwrap();
    assert!(matches!(
        db.remove_exception(e.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(db.exceptions().await.unwrap().len(), 1);
}
