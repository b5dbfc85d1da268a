//! The Users page lists, to the practice's admins only, the practice systems holding a
//! credential for that practice: name, issued, last used, withdrawn, never the secret.

use bookable::change_log::Actor;
use bookable::credentials;
use bookable::users::Role;
use reqwest::StatusCode;

use super::{add_user, setup, sign_in};
use crate::fixture::PRACTICE_A;

#[actix_web::test]
async fn admins_see_their_practice_systems_without_secrets_and_no_one_else_does() {
    let (app, fx) = setup().await;
    add_user(&app, "admin.a", &[(fx.a, Role::Admin)]);
    let actor = Actor::system("test");
    let mut conn = app.conn();
    let (_, secret_a) = credentials::issue(&mut conn, &actor, "EMIS rota feed", &[fx.a]).unwrap();
    let (old, _) = credentials::issue(&mut conn, &actor, "Old booking system", &[fx.a]).unwrap();
    credentials::revoke(&mut conn, &actor, old).unwrap();
    let (_, secret_b) =
        credentials::issue(&mut conn, &actor, "Northfield clinical system", &[fx.b]).unwrap();

    let admin = sign_in(&app, "admin.a").await;
    let (status, page) = admin.get(&format!("/practices/{PRACTICE_A}/users")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Practice systems that can send your rota and bookings"));
    assert!(page.contains("EMIS rota feed"), "{page}");
    assert!(page.contains("Old booking system"));
    assert!(page.contains("Withdrawn "), "the revoked one says so");
    assert!(page.contains("Never"), "not used yet");
    assert!(
        !page.contains("Northfield"),
        "another practice's credential is not listed"
    );
    for secret in [&secret_a, &secret_b] {
        assert!(!page.contains(secret.as_str()), "never the secret");
    }

    for who in ["manager.a", "viewer.a"] {
        let s = sign_in(&app, who).await;
        let (status, page) = s.get(&format!("/practices/{PRACTICE_A}/users")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        assert!(!page.contains("EMIS rota feed"), "{who}");
    }
}
