# Seeds $1 for pck_extensions_fuzzer: PEM chains, CRLs, and the SGX extension value of a real PCK
# certificate (cut out of a quote's embedded PEM chain).
for f in tests/data/tdx/collateral/*/*.pem tests/data/tdx/collateral/*/*.der; do
  cp "$f" "$1/$(basename "$(dirname "$f")")-$(basename "$f")"
done
tmp=$(mktemp -d)
awk '/BEGIN CERT/{p=1} p{print} /END CERT/{exit}' tests/data/tdx/quotes/dcap-qvl_tdx_quote.bin > "$tmp/pck.pem" 2>/dev/null
off=$(openssl asn1parse -in "$tmp/pck.pem" | awk '/1.2.840.113741.1.13.1$/{getline; sub(":.*","",$1); print $1; exit}')
[ -n "$off" ] && openssl asn1parse -in "$tmp/pck.pem" -strparse "$off" -noout -out "$1/sgx-extension.der"
rm -rf "$tmp"
