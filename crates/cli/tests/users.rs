//! `patchwatch users`, `groups` and scoped `tokens` against a real SQLite
//! file: the first admin is made here, never by a default password.

mod common;

use common::Env;

#[test]
fn users_groups_grants_and_scoped_tokens() {
    let env = Env::new();
    env.ok(&["sites", "add", "prague"]);
    env.ok(&["sites", "add", "brno"]);
    env.ok(&["groups", "add", "NGI_CZ"]);
    env.ok(&["groups", "add", "CZ_T2", "--parent", "NGI_CZ"]);
    env.ok(&["groups", "add-site", "CZ_T2", "prague", "brno"]);
    assert!(
        env.fails(&["groups", "add", "DEEP", "--parent", "CZ_T2"])
            .contains("groups nest one level only")
    );
    assert!(
        env.fails(&["groups", "add-site", "CZ_T2", "nowhere"])
            .contains("site \"nowhere\" not found")
    );
    let groups = env.json(&["groups", "list"]);
    assert_eq!(groups[0]["name"], "CZ_T2");
    assert_eq!(groups[0]["parent"], "NGI_CZ");
    assert_eq!(groups[0]["sites"], serde_json::json!(["brno", "prague"]));

    // The password comes from stdin, is checked, and only its hash is kept.
    let out = env
        .cmd(&["users", "add", "root", "--password-stdin"])
        .write_stdin("short\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12"));
    env.cmd(&["users", "add", "root", "--password-stdin"])
        .write_stdin("correct horse battery staple\n")
        .assert()
        .success();
    env.ok(&["users", "grant", "root", "admin"]);
    assert!(
        env.fails(&["users", "grant", "root", "admin", "--site", "prague"])
            .contains("granted everywhere")
    );
    env.ok(&["users", "add", "ngi-sec"]);
    env.ok(&["users", "grant", "ngi-sec", "triager", "--group", "NGI_CZ"]);
    assert!(
        env.fails(&["users", "grant", "ngi-sec", "viewer"])
            .contains("needs a site or a site group")
    );
    assert!(
        env.fails(&["users", "grant", "ghost", "auditor"])
            .contains("user \"ghost\" not found")
    );
    let users = env.json(&["users", "list"]);
    assert_eq!(users[0]["name"], "ngi-sec");
    assert_eq!(users[0]["has_password"], false);
    assert_eq!(users[0]["grants"][0]["role"], "triager");
    assert_eq!(users[0]["grants"][0]["group"], "NGI_CZ");
    assert_eq!(users[1]["name"], "root");
    assert_eq!(users[1]["has_password"], true);
    let text = env.ok(&["users", "list"]);
    assert!(!text.contains("argon2"), "hashes are never shown: {text}");

    let t = env.ok(&[
        "tokens", "add", "ngi-ci", "--access", "triage", "--group", "NGI_CZ",
    ]);
    assert!(t.lines().last().unwrap().starts_with("pwa_"), "{t}");
    env.ok(&[
        "tokens",
        "add",
        "prague-read",
        "--access",
        "read",
        "--site",
        "prague",
    ]);
    env.ok(&["tokens", "add", "mine", "--user", "ngi-sec"]);
    let csv = env.ok(&["tokens", "list", "--csv"]);
    for line in [
        "ngi-ci,api,triage,group NGI_CZ,",
        "prague-read,api,read,site prague,",
        "mine,api,read,user ngi-sec,",
        "prague-ingest,ingest,,site prague,",
    ] {
        assert!(csv.contains(line), "{line} in {csv}");
    }
    // Removing a user removes their tokens; removing a group its child.
    env.ok(&["users", "revoke", "ngi-sec", "triager", "--group", "NGI_CZ"]);
    env.ok(&["users", "remove", "ngi-sec"]);
    assert!(!env.ok(&["tokens", "list"]).contains("mine"));
    env.ok(&["groups", "remove", "NGI_CZ"]);
    assert_eq!(env.json(&["groups", "list"]), serde_json::json!([]));
    assert!(!env.ok(&["tokens", "list"]).contains("ngi-ci"));
}

#[test]
fn contacts_import_from_csv_and_json() {
    let env = Env::new();
    env.ok(&["sites", "add", "praguelcg2"]);
    env.ok(&["groups", "add", "NGI_CZ"]);
    let csv = env.dir.path().join("contacts.csv");
    std::fs::write(
        &csv,
        "name,role,site,group\n\
         CN=Jan Novak,Site Administrator,praguelcg2,\n\
         secofficer@example.cz,Site Security Officer,praguelcg2,\n\
         secofficer@example.cz,NGI Security Officer,,NGI_CZ\n",
    )
    .unwrap();
    let stats = env.json(&["users", "import", csv.to_str().unwrap()]);
    assert_eq!(
        (
            &stats["contacts"],
            &stats["users_created"],
            &stats["roles_granted"]
        ),
        (&3.into(), &2.into(), &3.into())
    );
    let users = env.json(&["users", "list"]);
    assert_eq!(users[0]["name"], "CN=Jan Novak");
    assert_eq!(users[0]["grants"][0]["role"], "viewer");
    assert_eq!(users[1]["grants"].as_array().unwrap().len(), 2);
    // The same file again changes nothing.
    let again = env.json(&["users", "import", csv.to_str().unwrap()]);
    assert_eq!(again["already_present"], 3);

    // A bad row anywhere: nothing is written, and the row is named.
    let json = env.dir.path().join("contacts.json");
    std::fs::write(
        &json,
        r#"[{"name": "new@example.cz", "role": "viewer", "site": "praguelcg2"},
            {"name": "x@example.cz", "role": "Site Janitor", "site": "praguelcg2"}]"#,
    )
    .unwrap();
    let err = env.fails(&["users", "import", json.to_str().unwrap()]);
    assert!(
        err.contains("contact 2: unknown role \"Site Janitor\""),
        "{err}"
    );
    assert!(!env.ok(&["users", "list"]).contains("new@example.cz"));
    std::fs::write(
        &json,
        r#"[{"name": "new@example.cz", "role": "viewer", "site": "nope"}]"#,
    )
    .unwrap();
    let err = env.fails(&["users", "import", json.to_str().unwrap()]);
    assert!(err.contains("no site named \"nope\""), "{err}");
}
