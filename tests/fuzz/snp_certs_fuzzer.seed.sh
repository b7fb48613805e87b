# Seeds $1 for snp_certs_fuzzer: real VCEK/VLEK certificates (DER), the certificate tables of the
# synthetic extended evidence (the bytes after the 1184-byte report), and extension records.
for f in tests/data/sevsnp/certs/*.der; do cp "$f" "$1/$(basename "$f")"; done
for f in tests/data/sevsnp/synthetic/*.bin; do tail -c +1185 "$f" > "$1/table-$(basename "$f")"; done
printf '\x02\x03\x02\x01\x04\x03\x03\x02\x01\x00\x04\x03\x02\x01\x18\x09\x04\x02\x02\x00\xdb\x01\x07\x16\x05Milan' > "$1/records-milan"
