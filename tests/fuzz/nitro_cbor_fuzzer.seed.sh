# Seeds the corpus directory $1 for nitro_cbor_fuzzer (run from the repository root): the real
# documents and a few hand-made items with indefinite lengths and tags.
cp tests/data/nitro/docs/*.bin "$1/"
printf '\xbf\x61\x61\x01\x61\x62\x9f\x02\x03\xff\xff' > "$1/indefinite_map"
printf '\x5f\x42\x01\x02\x43\x03\x04\x05\xff' > "$1/indefinite_bytes"
printf '\xd2\x84\x43\xa1\x01\x26\xa0\xf6\x40' > "$1/tagged_cose"
