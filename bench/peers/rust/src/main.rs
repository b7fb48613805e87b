//! Times `dcap_qvl::verify::verify` (Phala-Network/dcap-qvl, crates.io) on dcap-qvl's own TDX
//! sample quote with its PCS collateral at 2025-07-19T10:00:34Z, the vector and time verify_bench
//! uses. The collateral comes from tests/data/tdx/collateral/dcap-qvl-2025-06 (split from
//! dcap-qvl's sample JSON); nothing goes to the network. Only dcap-qvl's public API is called.
//!
//! Also times Evervault's attestation-doc-validation (crates.io) on the GA-era Nitro document
//! (under libfaketime: it has no time parameter). With `-cases FILE` it is the Rust half of the
//! differential test instead (src/diff.rs).
//!
//! Prints `peer=<peer> case=<name> ns_per_op=<wall> cpu_ns_per_op=<process CPU> iterations=<n>`
//! or `peer=dcap-qvl case=<name> error="..."`; scripts/bench.sh parses it.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dcap_qvl::QuoteCollateralV3;

mod diff;

fn read(data: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(data.join(rel)).unwrap_or_else(|e| {
        eprintln!("peers: {}: {}", rel, e);
        std::process::exit(2)
    })
}

fn read_text(data: &Path, rel: &str) -> String {
    String::from_utf8(read(data, rel)).expect("utf-8")
}

/// `{"<field>":<body>,"signature":"<hex>"}` as PCS sends it: the exact signed body text and the
/// signature bytes.
pub(crate) fn split_response(text: &str, field: &str) -> (String, Vec<u8>) {
    let prefix = format!("{{\"{}\":", field);
    let sig = ",\"signature\":\"";
    let text = text.trim_end();
    let start = text.strip_prefix(&prefix).expect("response prefix");
    let at = start.rfind(sig).expect("signature field");
    let body = &start[..at];
    let hex_sig = start[at + sig.len()..].strip_suffix("\"}").expect("response suffix");
    (body.to_string(), hex::decode(hex_sig).expect("hex signature"))
}

fn cpu_time() -> Duration {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000);
    t(ru.ru_utime) + t(ru.ru_stime)
}

fn measure<E: std::fmt::Debug>(peer: &str, name: &str, seconds: f64, mut op: impl FnMut() -> Result<(), E>) {
    if let Err(e) = op() {
        println!("peer={} case={} error={:?}", peer, name, format!("{:?}", e));
        return;
    }
    let mut n: u64 = 0;
    let cpu0 = cpu_time();
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..10 {
            if let Err(e) = op() {
                println!("peer={} case={} error={:?}", peer, name, format!("{:?}", e));
                return;
            }
        }
        n += 10;
    }
    let wall = start.elapsed();
    let cpu = cpu_time() - cpu0;
    println!(
        "peer={} case={} ns_per_op={} cpu_ns_per_op={} iterations={}",
        peer,
        name,
        wall.as_nanos() / n as u128,
        cpu.as_nanos() / n as u128,
        n
    );
}

fn main() {
    let mut data = PathBuf::from("tests/data");
    let mut seconds = 2.0;
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "-cases" {
        diff::run(&args[2]);
        return;
    }
    let mut i = 1;
    while i + 1 < args.len() {
        match args[i].as_str() {
            "-data" => data = PathBuf::from(&args[i + 1]),
            "-seconds" => seconds = args[i + 1].parse().expect("seconds"),
            other => panic!("unknown flag {}", other),
        }
        i += 2;
    }
    let dir = "tdx/collateral/dcap-qvl-2025-06";
    let (tcb_info, tcb_info_signature) =
        split_response(&read_text(&data, &format!("{}/tcb_info_response.json", dir)), "tcbInfo");
    let (qe_identity, qe_identity_signature) = split_response(
        &read_text(&data, &format!("{}/qe_identity_response.json", dir)),
        "enclaveIdentity",
    );
    let collateral = QuoteCollateralV3 {
        pck_crl_issuer_chain: read_text(&data, &format!("{}/pck_crl_issuer_chain.pem", dir)),
        root_ca_crl: read(&data, &format!("{}/root_ca_crl.der", dir)),
        pck_crl: read(&data, &format!("{}/pck_crl.der", dir)),
        tcb_info_issuer_chain: read_text(&data, &format!("{}/tcb_info_issuer_chain.pem", dir)),
        tcb_info,
        tcb_info_signature,
        qe_identity_issuer_chain: read_text(&data, &format!("{}/qe_identity_issuer_chain.pem", dir)),
        qe_identity,
        qe_identity_signature,
        pck_certificate_chain: None,
    };
    let quote = read(&data, "tdx/quotes/dcap-qvl_tdx_quote.bin");
    let now: u64 = 1752919234; // 2025-07-19T10:00:34Z
    measure("dcap-qvl", "tdx_dcap_qvl_full", seconds, || {
        dcap_qvl::verify::verify(&quote, &collateral, now).map(|report| {
            std::hint::black_box(report);
        })
    });

    // The floor under dcap-qvl: one ECDSA P-256 verification of the quote signature with ring.
    // Quote v4: header (48) and TD report (584) are signed; then the u32 signature data length,
    // the signature r||s (64) and the attestation key X||Y (64).
    let signed = &quote[..632];
    let signature = &quote[636..700];
    let mut key = vec![0x04u8];
    key.extend_from_slice(&quote[700..764]);
    let verifier =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, key);
    measure("dcap-qvl", "ecdsa_p256_ring", seconds, || verifier.verify(signed, signature));

    // Evervault's attestation-doc-validation on the GA-era Nitro document verify_bench uses, at
    // 2023-09-18T17:18:00Z. It reads the clock: scripts/bench.sh runs this process under
    // libfaketime (FAKETIME_NO_CACHE=1, FAKETIME_DONT_FAKE_MONOTONIC=1 so that timing is real).
    if std::env::var("LD_PRELOAD").map(|p| p.contains("faketime")).unwrap_or(false) {
        std::env::set_var("FAKETIME", "2023-09-18 17:18:00");
        let document = read(&data, "nitro/docs/ga_debug.bin");
        measure("attestation-doc-validation", "nitro_ga_debug", seconds, || {
            attestation_doc_validation::validate_and_parse_attestation_doc(&document).map(|doc| {
                std::hint::black_box(doc);
            })
        });
    } else {
        println!("peer=attestation-doc-validation case=nitro_ga_debug error=\"not run: needs libfaketime\"");
    }
}
