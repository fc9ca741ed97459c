//! The provider binary over the wire, with our own gRPC client playing Terraform: the go-plugin handshake, AutoMTLS
//! (accepted with the announced certificate, refused without it or with another), every implemented RPC on protocol
//! 6 and 5, the side services, SIGINT, and Shutdown.
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use cloudimage::cty::{self, Type, Value};
use cloudimage::plugin::proto::grpc_controller_client::GrpcControllerClient;
use cloudimage::tfplugin::{v5, v6};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tonic::transport::{Channel, Endpoint};

const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

fn test_provider() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-cloudimage"))
        .parent()
        .unwrap()
        .join("examples/testprovider");
    assert!(p.exists(), "{} not built", p.display());
    p
}

/// A client identity shaped like Terraform's: ECDSA P-521, self-signed, marked as a CA.
struct ClientIdentity {
    pem: String,
    der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

fn client_identity() -> ClientIdentity {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".into()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity {
        pem: cert.pem(),
        der: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    }
}

/// Trusts exactly the certificate from the handshake line, as go-plugin's client does.
#[derive(Debug)]
struct ExactServerCert(Vec<u8>);

impl ServerCertVerifier for ExactServerCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.0.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(m, c, d, &algs)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(m, c, d, &algs)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A running provider process and what its handshake line said.
struct Plugin {
    child: Child,
    version: u32,
    socket: String,
    server_cert: Vec<u8>,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(versions: &str, client_cert_pem: Option<&str>) -> Plugin {
    let mut cmd = Command::new(test_provider());
    cmd.env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", versions)
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(pem) = client_cert_pem {
        cmd.env("PLUGIN_CLIENT_CERT", pem);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "handshake line: {line:?}");
    assert_eq!(fields[0], "1");
    assert_eq!(fields[2], "unix");
    assert_eq!(fields[4], "grpc");
    let server_cert = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5])
        .unwrap();
    assert_eq!(server_cert.is_empty(), client_cert_pem.is_none());
    Plugin {
        child,
        version: fields[1].parse().unwrap(),
        socket: fields[3].to_string(),
        server_cert,
    }
}

async fn connect(
    plugin: &Plugin,
    identity: Option<&ClientIdentity>,
) -> Result<Channel, tonic::transport::Error> {
    let socket = plugin.socket.clone();
    let tls = if plugin.server_cert.is_empty() {
        None
    } else {
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ExactServerCert(plugin.server_cert.clone())));
        let mut config = match identity {
            Some(id) => builder
                .with_client_auth_cert(
                    vec![id.der.clone()],
                    PrivateKeyDer::Pkcs8(id.key.clone_key()),
                )
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec()];
        Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
    };
    Endpoint::try_from("http://localhost")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            let tls = tls.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(&socket).await?;
                let io: Box<dyn Io> = match tls {
                    Some(tls) => Box::new(
                        tls.connect(ServerName::try_from("localhost").unwrap(), stream)
                            .await?,
                    ),
                    None => Box::new(stream),
                };
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(io))
            }
        }))
        .await
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Io for T {}

fn resource_type(attrs: &std::collections::HashMap<String, Vec<u8>>) -> Type {
    Type::object(
        attrs
            .iter()
            .map(|(k, v)| (k.clone(), Type::from_json_bytes(v).unwrap())),
    )
}

fn object(ty: &Type, set: &[(&str, Value)]) -> Value {
    let Type::Object { attrs, .. } = ty else {
        panic!()
    };
    let mut v: std::collections::BTreeMap<String, Value> =
        attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
    for (k, val) in set {
        v.insert(k.to_string(), val.clone());
    }
    Value::Object(v)
}

fn store_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The RPCs both protocol versions share, written once for either generated client.
macro_rules! exercise_resource_rpcs {
    ($pb:ident, $client:expr, $ty:expr) => {{
        let client = &mut $client;
        let ty = &$ty;
        let dv = |v: &Value| $pb::DynamicValue {
            msgpack: cty::msgpack::encode(v, ty).unwrap(),
            json: vec![],
        };
        let un =
            |d: Option<$pb::DynamicValue>| cty::msgpack::decode(&d.unwrap().msgpack, ty).unwrap();
        let config = object(
            ty,
            &[
                ("name", Value::string("wire")),
                ("kind", Value::string("k")),
            ],
        );

        // Plan a create: computed attributes unknown, configured ones as given.
        let plan = client
            .plan_resource_change($pb::plan_resource_change::Request {
                type_name: "cloudimage_test_object".into(),
                prior_state: Some(dv(&Value::Null)),
                proposed_new_state: Some(dv(&config)),
                config: Some(dv(&config)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
        let planned = un(plan.planned_state.clone());
        assert!(!planned.get_attr("id").unwrap().is_known());
        assert_eq!(planned.get_attr("name"), Some(&Value::string("wire")));

        // Apply it: everything known, configured values kept.
        let applied = client
            .apply_resource_change($pb::apply_resource_change::Request {
                type_name: "cloudimage_test_object".into(),
                prior_state: Some(dv(&Value::Null)),
                planned_state: plan.planned_state.clone(),
                config: Some(dv(&config)),
                planned_private: plan.planned_private.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
        let state = un(applied.new_state.clone());
        assert!(state.is_wholly_known());
        let id = state
            .get_attr("id")
            .and_then(Value::as_str)
            .unwrap()
            .to_string();

        // A plan with nothing changed returns the prior state exactly.
        let noop = client
            .plan_resource_change($pb::plan_resource_change::Request {
                type_name: "cloudimage_test_object".into(),
                prior_state: Some(dv(&state)),
                proposed_new_state: Some(dv(&state)),
                config: Some(dv(&config)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(un(noop.planned_state), state);
        assert!(noop.requires_replace.is_empty());

        // A changed `kind` asks for replacement at that path.
        let changed = object(
            ty,
            &[
                ("name", Value::string("wire")),
                ("kind", Value::string("k2")),
            ],
        );
        let mut proposed = state.clone();
        if let Value::Object(m) = &mut proposed {
            m.insert("kind".into(), Value::string("k2"));
        }
        let replace = client
            .plan_resource_change($pb::plan_resource_change::Request {
                type_name: "cloudimage_test_object".into(),
                prior_state: Some(dv(&state)),
                proposed_new_state: Some(dv(&proposed)),
                config: Some(dv(&changed)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(replace.requires_replace.len(), 1);

        // Read echoes private data and returns the object.
        let read = client
            .read_resource($pb::read_resource::Request {
                type_name: "cloudimage_test_object".into(),
                current_state: Some(dv(&state)),
                private: b"opaque".to_vec(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(read.private, b"opaque");
        assert_eq!(un(read.new_state), state);

        // Import by ID.
        let imported = client
            .import_resource_state($pb::import_resource_state::Request {
                type_name: "cloudimage_test_object".into(),
                id: id.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(imported.imported_resources.len(), 1);
        let istate = un(imported.imported_resources[0].state.clone());
        assert_eq!(istate.get_attr("id"), Some(&Value::string(id.clone())));

        // Upgrade stored JSON state, including an attribute the schema no longer has.
        let upgraded = client
            .upgrade_resource_state($pb::upgrade_resource_state::Request {
                type_name: "cloudimage_test_object".into(),
                version: 0,
                raw_state: Some($pb::RawState {
                    json: format!(
                        r#"{{"id":"{id}","name":"old","kind":"k","retired_attribute":1}}"#
                    )
                    .into_bytes(),
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            upgraded.diagnostics.is_empty(),
            "{:?}",
            upgraded.diagnostics
        );
        assert_eq!(
            un(upgraded.upgraded_state).get_attr("name"),
            Some(&Value::string("old"))
        );

        // Garbage on the wire is a diagnostic, not a crash.
        let garbage = client
            .read_resource($pb::read_resource::Request {
                type_name: "cloudimage_test_object".into(),
                current_state: Some($pb::DynamicValue {
                    msgpack: vec![0x81, 0xa4, b'n', b'a'],
                    json: vec![],
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(garbage.diagnostics.len(), 1);

        // Destroy: plan to null, apply deletes.
        let destroy = client
            .apply_resource_change($pb::apply_resource_change::Request {
                type_name: "cloudimage_test_object".into(),
                prior_state: Some(dv(&state)),
                planned_state: Some(dv(&Value::Null)),
                config: Some(dv(&Value::Null)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(destroy.diagnostics.is_empty());
        let gone = client
            .read_resource($pb::read_resource::Request {
                type_name: "cloudimage_test_object".into(),
                current_state: Some(dv(&state)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            un(gone.new_state).is_null(),
            "a deleted object reads as null"
        );

        // Unimplemented RPCs are gRPC Unimplemented.
        let status = client
            .read_data_source($pb::read_data_source::Request::default())
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unimplemented);
    }};
}

async fn shutdown_and_wait(plugin: &mut Plugin, channel: Channel) {
    let started = Instant::now();
    GrpcControllerClient::new(channel)
        .shutdown(cloudimage::plugin::proto::Empty {})
        .await
        .unwrap();
    loop {
        if plugin.child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "plugin still running 1 s after Shutdown"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn protocol_6_over_mtls() {
    let id = client_identity();
    let mut plugin = start("5,6", Some(&id.pem));
    assert_eq!(plugin.version, 6);
    let channel = connect(&plugin, Some(&id)).await.unwrap();
    let mut client = v6::pb::provider_client::ProviderClient::new(channel.clone());

    // Health, as go-plugin checks it.
    let health = tonic_health::pb::health_client::HealthClient::new(channel.clone())
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        health.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    let schema = client
        .get_provider_schema(v6::pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    let caps = schema.server_capabilities.unwrap();
    assert!(caps.plan_destroy && caps.get_provider_schema_optional);
    let res = &schema.resource_schemas["cloudimage_test_object"];
    let ty = resource_type(
        &res.block
            .as_ref()
            .unwrap()
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.r#type.clone()))
            .collect(),
    );
    let meta = client
        .get_metadata(v6::pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(meta.resources[0].type_name, "cloudimage_test_object");
    let ids = client
        .get_resource_identity_schemas(v6::pb::get_resource_identity_schemas::Request {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        ids.identity_schemas["cloudimage_test_object"].identity_attributes[0].name,
        "id"
    );

    let dir = store_dir();
    let pty = Type::object([("directory", Type::String), ("token", Type::String)]);
    let pconf = Value::object([
        ("directory", Value::string(dir.path().to_str().unwrap())),
        ("token", Value::Null),
    ]);
    let pdv = v6::pb::DynamicValue {
        msgpack: cty::msgpack::encode(&pconf, &pty).unwrap(),
        json: vec![],
    };
    let valid = client
        .validate_provider_config(v6::pb::validate_provider_config::Request {
            config: Some(pdv.clone()),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(valid.diagnostics.is_empty());
    let configured = client
        .configure_provider(v6::pb::configure_provider::Request {
            terraform_version: "1.15.5".into(),
            config: Some(pdv),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        configured.diagnostics.is_empty(),
        "{:?}",
        configured.diagnostics
    );

    // Validation with an attribute path, and an unknown that must be skipped.
    let bad = object(
        &ty,
        &[("name", Value::string("")), ("kind", Value::unknown())],
    );
    let diags = client
        .validate_resource_config(v6::pb::validate_resource_config::Request {
            type_name: "cloudimage_test_object".into(),
            config: Some(v6::pb::DynamicValue {
                msgpack: cty::msgpack::encode(&bad, &ty).unwrap(),
                json: vec![],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .diagnostics;
    assert_eq!(diags.len(), 1);
    let step = &diags[0].attribute.as_ref().unwrap().steps[0];
    assert_eq!(
        step.selector,
        Some(v6::pb::attribute_path::step::Selector::AttributeName(
            "name".into()
        ))
    );

    exercise_resource_rpcs!(v6_pb, client, ty);

    // Stored identities are re-encoded against the identity schema.
    let identity = client
        .upgrade_resource_identity(v6::pb::upgrade_resource_identity::Request {
            type_name: "cloudimage_test_object".into(),
            version: 0,
            raw_identity: Some(v6::pb::RawState {
                json: br#"{"id":"obj-1"}"#.to_vec(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        identity.diagnostics.is_empty(),
        "{:?}",
        identity.diagnostics
    );
    let ity = Type::object([("id", Type::String)]);
    let decoded = cty::msgpack::decode(
        &identity
            .upgraded_identity
            .unwrap()
            .identity_data
            .unwrap()
            .msgpack,
        &ity,
    )
    .unwrap();
    assert_eq!(decoded.get_attr("id"), Some(&Value::string("obj-1")));

    let stopped = client
        .stop_provider(v6::pb::stop_provider::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(stopped.error.is_empty());

    // Ctrl-C reaches the whole process group; the plugin must survive it.
    let pid = plugin.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        plugin.child.try_wait().unwrap().is_none(),
        "SIGINT killed the plugin"
    );
    client
        .get_metadata(v6::pb::get_metadata::Request {})
        .await
        .unwrap();

    shutdown_and_wait(&mut plugin, channel).await;
}

use v5::pb as v5_pb;
use v6::pb as v6_pb;

#[tokio::test]
async fn protocol_5_over_mtls() {
    let id = client_identity();
    let mut plugin = start("5", Some(&id.pem));
    assert_eq!(plugin.version, 5);
    let channel = connect(&plugin, Some(&id)).await.unwrap();
    let mut client = v5::pb::provider_client::ProviderClient::new(channel.clone());
    let schema = client
        .get_schema(v5::pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    let res = &schema.resource_schemas["cloudimage_test_object"];
    let ty = resource_type(
        &res.block
            .as_ref()
            .unwrap()
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.r#type.clone()))
            .collect(),
    );
    let dir = store_dir();
    let pty = Type::object([("directory", Type::String), ("token", Type::String)]);
    let pconf = Value::object([
        ("directory", Value::string(dir.path().to_str().unwrap())),
        ("token", Value::Null),
    ]);
    let pdv = v5::pb::DynamicValue {
        msgpack: cty::msgpack::encode(&pconf, &pty).unwrap(),
        json: vec![],
    };
    let prepared = client
        .prepare_provider_config(v5::pb::prepare_provider_config::Request {
            config: Some(pdv.clone()),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(prepared.prepared_config, Some(pdv.clone()));
    let configured = client
        .configure(v5::pb::configure::Request {
            terraform_version: "0.14.6".into(),
            config: Some(pdv),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(configured.diagnostics.is_empty());
    let ok = object(
        &ty,
        &[("name", Value::string("x")), ("kind", Value::string("k"))],
    );
    let diags = client
        .validate_resource_type_config(v5::pb::validate_resource_type_config::Request {
            type_name: "cloudimage_test_object".into(),
            config: Some(v5::pb::DynamicValue {
                msgpack: cty::msgpack::encode(&ok, &ty).unwrap(),
                json: vec![],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .diagnostics;
    assert!(diags.is_empty());
    exercise_resource_rpcs!(v5_pb, client, ty);
    client.stop(v5::pb::stop::Request {}).await.unwrap();
    shutdown_and_wait(&mut plugin, channel).await;
}

#[tokio::test]
async fn mtls_refuses_a_client_without_the_announced_certificate() {
    let announced = client_identity();
    let plugin = start("6", Some(&announced.pem));

    // A different certificate, even one shaped exactly like Terraform's.
    let stranger = client_identity();
    let wrong = match connect(&plugin, Some(&stranger)).await {
        Ok(ch) => v6::pb::provider_client::ProviderClient::new(ch)
            .get_metadata(v6::pb::get_metadata::Request {})
            .await
            .map(|_| ()),
        Err(e) => Err(tonic::Status::unavailable(e.to_string())),
    };
    assert!(
        wrong.is_err(),
        "a client with another certificate was served"
    );

    // No certificate at all.
    let none = match connect(&plugin, None).await {
        Ok(ch) => v6::pb::provider_client::ProviderClient::new(ch)
            .get_metadata(v6::pb::get_metadata::Request {})
            .await
            .map(|_| ()),
        Err(e) => Err(tonic::Status::unavailable(e.to_string())),
    };
    assert!(none.is_err(), "a client without a certificate was served");

    // Plaintext on a TLS socket.
    let plain = Plugin {
        child: Command::new("true").spawn().unwrap(),
        version: 6,
        socket: plugin.socket.clone(),
        server_cert: vec![],
    };
    let plaintext = match connect(&plain, None).await {
        Ok(ch) => v6::pb::provider_client::ProviderClient::new(ch)
            .get_metadata(v6::pb::get_metadata::Request {})
            .await
            .map(|_| ()),
        Err(e) => Err(tonic::Status::unavailable(e.to_string())),
    };
    assert!(
        plaintext.is_err(),
        "a plaintext client was served on the mTLS socket"
    );

    // The right certificate still works afterwards.
    let ch = connect(&plugin, Some(&announced)).await.unwrap();
    v6::pb::provider_client::ProviderClient::new(ch)
        .get_metadata(v6::pb::get_metadata::Request {})
        .await
        .unwrap();
}

#[tokio::test]
async fn plaintext_without_plugin_client_cert() {
    let mut plugin = start("6", None);
    let channel = connect(&plugin, None).await.unwrap();
    v6::pb::provider_client::ProviderClient::new(channel.clone())
        .get_metadata(v6::pb::get_metadata::Request {})
        .await
        .unwrap();
    shutdown_and_wait(&mut plugin, channel).await;
}

#[test]
fn refuses_to_run_without_the_magic_cookie() {
    let out = Command::new(test_provider())
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("use it from terraform"), "{msg}");
    let product = Command::new(env!("CARGO_BIN_EXE_terraform-provider-cloudimage"))
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .unwrap();
    assert_eq!(product.status.code(), Some(1));
}

#[test]
fn socket_lives_in_a_private_directory_under_plugin_unix_socket_dir() {
    use std::os::unix::fs::PermissionsExt;
    let base = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(test_provider());
    cmd.env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_UNIX_SOCKET_DIR", base.path())
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let socket = PathBuf::from(line.split('|').nth(3).unwrap());
    let _ = child.kill();
    let _ = child.wait();
    let dir = socket.parent().unwrap();
    assert_eq!(dir.parent().unwrap(), base.path());
    let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}
