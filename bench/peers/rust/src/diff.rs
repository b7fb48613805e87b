//! The differential mode (`-cases cases.tsv`): every TDX case of a tee-mutants cases.tsv through
//! dcap-qvl and every Nitro case through Evervault's attestation-doc-validation; prints
//! `id<TAB>peer<TAB>accept|reject<TAB>error` per case, which `peers -report` (bench/peers/go)
//! joins with our verdicts (docs/conformance.md).
//!
//! attestation-doc-validation takes no time parameter: it reads the clock. This process runs
//! under libfaketime (scripts/differential.sh: LD_PRELOAD, FAKETIME_NO_CACHE=1,
//! FAKETIME_DONT_FAKE_MONOTONIC=1), and FAKETIME is set to each case's time before verifying.
//! Without libfaketime the Nitro cases are skipped (the documents' leaves expired years ago).
use std::collections::HashMap;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

use dcap_qvl::QuoteCollateralV3;

use crate::split_response;

struct Case<'a> {
    id: &'a str,
    tee: &'a str,
    evidence: &'a str,
    collateral: &'a str,
    item: &'a str,
    item_file: &'a str,
    at: &'a str,
}

fn parse_rfc3339(at: &str) -> Option<(i64, String)> {
    // "YYYY-MM-DDTHH:MM:SSZ": the times tee-mutants writes.
    let b = at.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let n = |s: &str| s.parse::<i64>().ok();
    let (y, mo, d) = (n(&at[0..4])?, n(&at[5..7])?, n(&at[8..10])?);
    let (h, mi, s) = (n(&at[11..13])?, n(&at[14..16])?, n(&at[17..19])?);
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some((days * 86400 + h * 3600 + mi * 60 + s, format!("{} {}", &at[0..10], &at[11..19])))
}

struct Files(HashMap<String, Vec<u8>>);

impl Files {
    fn get(&mut self, path: &str) -> Result<Vec<u8>, String> {
        if let Some(b) = self.0.get(path) {
            return Ok(b.clone());
        }
        let b = std::fs::read(path).map_err(|e| format!("{}: {}", path, e))?;
        if !path.contains("/files/") {
            self.0.insert(path.to_string(), b.clone()); // the unmutated vectors and collateral
        }
        Ok(b)
    }
}

/// The collateral as dcap-qvl takes it, from the case's directory with one file replaced. A
/// response that cannot be split into body and signature is refused here, as dcap-qvl's own
/// PCS client would refuse it (it parses the same JSON).
fn collateral(files: &mut Files, c: &Case) -> Result<QuoteCollateralV3, String> {
    let mut file = |name: &str| -> Result<Vec<u8>, String> {
        if name == c.item {
            files.get(c.item_file)
        } else {
            files.get(&format!("{}/{}", c.collateral, name))
        }
    };
    let text = |b: Vec<u8>| String::from_utf8(b).map_err(|_| "harness: not UTF-8".to_string());
    let split = |t: String, field: &str| {
        catch_unwind(|| split_response(&t, field)).map_err(|_| format!("harness: {} response not splittable", field))
    };
    let (tcb_info, tcb_info_signature) = split(text(file("tcb_info_response.json")?)?, "tcbInfo")?;
    let (qe_identity, qe_identity_signature) =
        split(text(file("qe_identity_response.json")?)?, "enclaveIdentity")?;
    Ok(QuoteCollateralV3 {
        pck_crl_issuer_chain: text(file("pck_crl_issuer_chain.pem")?)?,
        root_ca_crl: file("root_ca_crl.der")?,
        pck_crl: file("pck_crl.der")?,
        tcb_info_issuer_chain: text(file("tcb_info_issuer_chain.pem")?)?,
        tcb_info,
        tcb_info_signature,
        qe_identity_issuer_chain: text(file("qe_identity_issuer_chain.pem")?)?,
        qe_identity,
        qe_identity_signature,
        pck_certificate_chain: None,
    })
}

fn verdict(result: Result<(), String>) -> (&'static str, String) {
    match result {
        Ok(()) => ("accept", "-".to_string()),
        Err(e) => ("reject", e.replace(['\t', '\n'], " ").chars().take(300).collect()),
    }
}

pub fn run(cases_path: &str) {
    let text = std::fs::read_to_string(cases_path).unwrap_or_else(|e| {
        eprintln!("peers: {}: {}", cases_path, e);
        std::process::exit(2)
    });
    let faked = std::env::var("LD_PRELOAD").map(|p| p.contains("faketime")).unwrap_or(false);
    if !faked {
        eprintln!("peers: not under libfaketime: Nitro cases skipped");
    }
    std::panic::set_hook(Box::new(|_| {})); // a peer's panic is its verdict, printed below
    let mut files = Files(HashMap::new());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 14 {
            eprintln!("peers: bad case line {:?}", line);
            std::process::exit(2);
        }
        let c = Case { id: f[0], tee: f[1], evidence: f[4], collateral: f[6], item: f[7], item_file: f[8], at: f[9] };
        let (now, faketime) = parse_rfc3339(c.at).unwrap_or_else(|| {
            eprintln!("peers: bad time {:?}", c.at);
            std::process::exit(2)
        });
        let (peer, result) = match c.tee {
            "tdx" => {
                let result = files.get(c.evidence).and_then(|quote| {
                    let collateral = collateral(&mut files, &c)?;
                    catch_unwind(AssertUnwindSafe(|| dcap_qvl::verify::verify(&quote, &collateral, now as u64)))
                        .map_err(|_| "PANIC in dcap_qvl::verify::verify".to_string())?
                        .map(|_| ())
                        .map_err(|e| format!("{:?}", e))
                });
                ("dcap-qvl", result)
            }
            "nitro" if faked => {
                std::env::set_var("FAKETIME", &faketime);
                let result = files.get(c.evidence).and_then(|doc| {
                    catch_unwind(|| attestation_doc_validation::validate_and_parse_attestation_doc(&doc))
                        .map_err(|_| "PANIC in validate_and_parse_attestation_doc".to_string())?
                        .map(|_| ())
                        .map_err(|e| format!("{:?}", e))
                });
                ("attestation-doc-validation", result)
            }
            _ => continue,
        };
        let (v, e) = verdict(result);
        writeln!(out, "{}\t{}\t{}\t{}", c.id, peer, v, e).expect("stdout");
    }
}
