# Seeds $1 for attested_cert_fuzzer: self-issued certificates whose evidence extension carries a
# real TDX quote and a real Nitro document (the binding is irrelevant to the parser).
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/key.pem" 2>/dev/null
i=0
for ev in tests/data/tdx/quotes/dcap-qvl_tdx_quote.bin tests/data/nitro/docs/cage_nondebug.cose.bin; do
  [ -f "$ev" ] || continue
  i=$((i + 1))
  openssl req -x509 -new -key "$tmp/key.pem" -subj "/CN=tee-auth attested workload" -days 1 \
    -addext "1.3.6.1.4.1.32473.16.1=DER:$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().hex())' "$ev")" -outform DER -out "$1/cert-$i.der"
done
