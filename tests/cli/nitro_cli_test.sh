#!/usr/bin/env bash
# Contract tests of the tee-verify CLI for AWS Nitro attestation documents (facts from
# ../shared/vectors/MANIFEST.md, see tests/data/nitro/PROVENANCE.md).
#   nitro_cli_test.sh TEE_VERIFY DATA_DIR CASE     run one case
#   nitro_cli_test.sh list                         print the case names
set -uo pipefail

cases=(ga_debug_verifies base64_verifies auto_detects every_real_document expired_names_leaf
       inspect_unverified tampered_rejected malformed_rejected roots_flag)

if [ "${1:-}" = "list" ]; then printf '%s\n' "${cases[@]}"; exit 0; fi
TV="$1"; DATA="$2"; CASE="$3"
D="$DATA/nitro/docs"
OUT=$(mktemp); trap 'rm -f "$OUT" "$OUT.bin"; rm -rf "$OUT.d"' EXIT
source "$(dirname "$0")/lib.sh"

GA_AT=2023-09-18T17:18:00Z
GA_NONCE=bba6bfd51866d2e4e095ba3277f208a4692e62f76b98595bf13204bc5f36be7a13120a5de19a3b5fcebcca0722983901db66d35c419c2e70ea8c7aa48a56df715ae4a39ad5fe0e4d056b2d8b2eb756b69fd231f86e8e39a1607ea5d9ab8d078c5d27147fdc2b0b5404c281f79a45381ed6533c048f38e3765b5e9776d36c7452b9d6cdae09ecfdd088c74b680dcf3bb520d0ff926074e7b6fc2c0b6a5d0b07adeba14295b01bdf7a155d0ad08f40d958ee6a837a5655a7fff35a16f7fb7e40aadaf39399f08987941950c50847e0232cd4a1d3161071f54fdad3e1f5706f4140b28859c169c0fc2526993e9d94d4657644100cd32efd6e6671ab4ae4119c1f21
ZERO48=000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000

check_ga_claims() {
  jqeq .tee nitro; jqeq .verified true; jqeq .verified_at "$GA_AT"; jqeq .tcb_status NotApplicable
  jqeq '.advisory_ids|length' 0; jqeq .debug true; jqeq .valid_until 2023-09-18T17:37:12Z
  jqeq .report_data "$GA_NONCE"; jqeq .nitro.nonce "$GA_NONCE"
  jqeq .nitro.module_id i-0918f6c55e3b61d89-enc018aa8b8e2285d13; jqeq .nitro.digest SHA384
  jqeq .nitro.timestamp_ms 1695049410860; jqeq .nitro.timestamp 2023-09-18T15:03:30.860Z
  jqeq '.nitro.pcrs|keys|length' 16; jqeq '.nitro.pcrs["0"]' "$ZERO48"
  jqeq '.nitro.pcrs["3"]' 4a9329d69c836267b18abbf9f4a38889124490453419e426818626348d21f989dc930b1562682a9082887454e53425aa
  jqeq '.nitro.pcrs["4"]' d0531b1400dd43288c82c226c16bf647c637dd5e4d9b4f7a8aaadc6d6760b854a06c7008cca0d15ca80094dd33a65065
  jqeq .nitro.user_data 3059301306072a8648ce3d020106082a8648ce3d030107034200042afc52fe36bd5f190b5c90a7ef3349716dcbc4aa003dde71114b11d2faa6648e0713c527439746a8d23dab9e1b999e847762ef385bb5cf27295323b9908b2acb
  jqeq '.nitro|has("public_key")' false
  jqeq .nitro.certificate_fingerprint f1fbb123b2c37631982c363c45f98c87217eeb9748f81306635741a87e6aa3e3
}

case "$CASE" in
ga_debug_verifies)
  run 0 --tee nitro --at "$GA_AT" "$D/ga_debug.bin"; check_ga_claims ;;
base64_verifies)
  run 0 --tee nitro --at "$GA_AT" "$D/ga_debug.base64"; check_ga_claims ;;
auto_detects)
  run 0 --at "$GA_AT" "$D/ga_debug.bin"; jqeq .tee nitro; jqeq .verified true
  run 0 --tee auto --at "$GA_AT" "$D/ga_debug.base64"; jqeq .tee nitro; jqeq .verified true ;;
every_real_document)
  # file, time, debug, PCR0, PCR8 (MANIFEST)
  while read -r f at debug pcr0 pcr8; do
    run 0 --at "$at" "$D/$f"
    jqeq .verified true; jqeq .debug "$debug"; jqeq '.nitro.pcrs["0"]' "$pcr0"; jqeq '.nitro.pcrs["8"]' "$pcr8"
  done <<EOF
ga_debug.bin 2023-09-18T17:18:00Z true $ZERO48 $ZERO48
beta_nondebug.bin 2022-10-13T09:00:00Z false f4d48b81a460c9916d1e685119074bf24660afd3e34fae9fca0a0d28d9d5599936332687e6f66fc890ac8cf150142d8b 8790eb3cce6c83d07e84b126dc61ca923333d6f66615c4a79157de48c5ab2418bdc60746ea7b7afbff03a1c6210201cb
beta_debug.bin 2022-10-12T14:00:00Z true $ZERO48 $ZERO48
cage_nondebug.cose.bin 2023-01-18T15:15:14Z false d265a83faa7b4fa0d73b82b6d06253e894445922937d0ee5a74fe4891da9817611a71e71b98e5329232902de3cf419af 97c5395a83c0d6a04d53ff962663c714c178c24500bf97f78456ed3721d922cf3f940614da4bb90107c439bc4a1443ca
cage_debug.cose.bin 2023-01-18T15:15:14Z true $ZERO48 $ZERO48
EOF
  ;;
expired_names_leaf)
  run 1 --tee nitro --at 2023-09-18T18:37:12Z "$D/ga_debug.bin"
  jqeq .tee nitro; jqeq .verified false; jqeq .reason EXPIRED
  jqeq .error "nitro document certificate chain: certificate 'i-0918f6c55e3b61d89-enc018aa8b8e2285d13.us-east-1.aws' (serial 018aa8b8e2285d130000000065086098) expired at 2023-09-18T17:37:12Z (verification time 2023-09-18T18:37:12Z)"
  jqtrue 'has("nitro") | not' ;;
inspect_unverified)
  run 0 --inspect --at 2023-09-18T18:37:12Z "$D/ga_debug.base64"
  jqeq .verified false; jqeq 'has("tcb_status")' false; jqeq 'has("valid_until")' false
  jqeq .debug true; jqeq .nitro.module_id i-0918f6c55e3b61d89-enc018aa8b8e2285d13
  jqtrue '.warnings[0] | endswith("2023-09-18T14:37:09Z .. 2023-09-18T17:37:12Z; verification at 2023-09-18T18:37:12Z would fail")'
  run 0 --inspect --at "$GA_AT" "$D/beta_nondebug.bin"
  jqeq .nitro.timestamp_ms 1665651482136; jqeq 'has("warnings")' true ;;
tampered_rejected)
  cp "$D/ga_debug.bin" "$OUT.bin"; size=$(stat -c %s "$OUT.bin")
  printf '\x5a' | dd of="$OUT.bin" bs=1 seek=$((size - 1)) conv=notrunc status=none
  cmp -s "$D/ga_debug.bin" "$OUT.bin" && fail "the copy was not changed"
  run 1 --at "$GA_AT" "$OUT.bin"; jqeq .tee nitro; jqeq .reason BAD_SIGNATURE
  jqtrue '.error | startswith("nitro document: COSE_Sign1 ES384 signature by certificate")' ;;
malformed_rejected)
  head -c 100 "$D/ga_debug.bin" > "$OUT.bin"
  run 1 --at "$GA_AT" "$OUT.bin"; jqeq .tee nitro; jqeq .reason MALFORMED_EVIDENCE
  jqtrue '.error | startswith("nitro document: truncated")'
  printf 'this is not a document' > "$OUT.bin"
  run 1 --tee nitro --at "$GA_AT" "$OUT.bin"; jqeq .tee nitro; jqeq .reason MALFORMED_EVIDENCE
  { cat "$D/ga_debug.bin"; printf '\x00'; } > "$OUT.bin"
  run 1 --tee nitro --at "$GA_AT" "$OUT.bin"; jqeq .reason MALFORMED_EVIDENCE
  jqtrue '.error | startswith("nitro document: 1 trailing bytes")' ;;
roots_flag)
  mkdir -p "$OUT.d/aws" "$OUT.d/other"
  cp "$DATA/nitro/roots/aws_nitro_enclaves_root_g1.pem" "$OUT.d/aws/"
  run 0 --roots "$OUT.d/aws" --at "$GA_AT" "$D/ga_debug.bin"; jqeq .verified true
  cp "$DATA/tdx/extra/intel_sgx_root_ca.pem" "$OUT.d/other/"
  run 1 --roots "$OUT.d/other" --at "$GA_AT" "$D/ga_debug.bin"; jqeq .reason CERT_CHAIN_INVALID
  jqeq .error "no trusted root configured for AWS Nitro Enclaves Root-G1" ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
echo "ok [$CASE]"
