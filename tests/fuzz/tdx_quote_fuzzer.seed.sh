# Seeds the corpus directory $1 for tdx_quote_fuzzer (run from the repository root).
cp tests/data/tdx/quotes/*.bin "$1/"
