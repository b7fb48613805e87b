# Seeds the corpus directory $1 for nitro_document_fuzzer (run from the repository root): the real
# documents, raw and base64, and a tagged (18) form of one of them.
cp tests/data/nitro/docs/*.bin tests/data/nitro/docs/*.base64 "$1/"
{ printf '\xd2'; cat tests/data/nitro/docs/beta_debug.bin; } > "$1/beta_debug_tagged.bin"
