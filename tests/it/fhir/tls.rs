//! Optional mutual TLS: with a client CA configured, only clients whose certificate chains to it
//! complete the handshake. Certificates are made for the test with the openssl command.

use std::path::{Path, PathBuf};
use std::process::Command;

use bookable::server::{Options, run_with};
use bookable::state::AppState;

use crate::harness::TestDb;

/// A folder of test certificates, removed when dropped.
struct Pki(PathBuf);

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command (Debian package openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn new_key_and_csr(dir: &Path, name: &str, cn: &str) {
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN={cn}"),
        ],
    );
}

fn new_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

fn sign(dir: &Path, name: &str, ca: &str, extensions: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), extensions).unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
        ],
    );
}

/// A CA, a server certificate for localhost signed by it, a client certificate signed by it,
/// and a client certificate signed by another CA.
fn pki() -> Pki {
    let dir = std::env::temp_dir().join(format!(
        "bookable-tls-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let pki = Pki(dir);
    let d = &pki.0;
    new_ca(d, "spine-ca");
    new_ca(d, "other-ca");
    new_key_and_csr(d, "server", "localhost");
    sign(
        d,
        "server",
        "spine-ca",
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    );
    for (client, ca) in [("client", "spine-ca"), ("stranger", "other-ca")] {
        new_key_and_csr(d, client, client);
        sign(d, client, ca, "extendedKeyUsage=clientAuth\n");
    }
    pki
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn client(pki: &Pki, identity: Option<&str>) -> reqwest::Client {
    let read = |f: &str| std::fs::read(pki.0.join(f)).unwrap();
    let mut builder = reqwest::Client::builder()
        .tls_backend_rustls()
        .tls_certs_only([reqwest::Certificate::from_pem(&read("spine-ca.pem")).unwrap()]);
    if let Some(name) = identity {
        let mut pem = read(&format!("{name}.pem"));
        pem.extend(read(&format!("{name}.key")));
        builder = builder.identity(reqwest::Identity::from_pem(&pem).unwrap());
    }
    builder.build().unwrap()
}

#[actix_web::test]
async fn only_clients_with_a_certificate_from_the_configured_ca_are_served() {
    let pki = pki();
    let config = bookable::fhir::tls::server_config(
        &pki.0.join("server.pem"),
        &pki.0.join("server.key"),
        &pki.0.join("spine-ca.pem"),
    )
    .unwrap();
    let db = TestDb::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://localhost:{}/health",
        listener.local_addr().unwrap().port()
    );
    let options = Options {
        tls: Some(config),
        ..Options::default()
    };
    let server = run_with(listener, AppState::new(db.pool(2)), options).unwrap();
    let handle = server.handle();
    actix_web::rt::spawn(server.serve());

    let served = client(&pki, Some("client")).get(&url).send().await.unwrap();
    assert_eq!(served.status(), 200);
    for refused in [None, Some("stranger")] {
        let result = client(&pki, refused).get(&url).send().await;
        assert!(result.is_err(), "{refused:?} was served: {result:?}");
    }
    handle.stop(false).await;
}
