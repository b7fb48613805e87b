# Seeds the corpus directory $1 for snp_report_fuzzer: the real reports and the synthetic
# extended evidence (report + certificate table).
cp tests/data/sevsnp/reports/*.bin "$1/"
for f in tests/data/sevsnp/synthetic/*.bin; do cp "$f" "$1/synthetic-$(basename "$f")"; done
