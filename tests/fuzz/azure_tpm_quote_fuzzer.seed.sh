# Seeds the corpus directory $1 for azure_tpm_quote_fuzzer: the TPMS_ATTEST quotes of the real
# Azure vectors and a TPMT_SIGNATURE wrapping one of their RSA signatures.
for f in tests/data/azure/*.json; do
  n=$(basename "$f" .json)
  jq -r .tpm_quote.message "$f" | xxd -r -p > "$1/attest-$n"
  { printf '\x00\x14\x00\x0b\x01\x00'; jq -r .tpm_quote.signature "$f" | xxd -r -p; } > "$1/sig-$n"
done
