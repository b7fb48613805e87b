# Seeds the corpus directory $1 for azure_hcl_report_fuzzer: the HCL reports of the real Azure
# vectors and their runtime data JSON.
for f in tests/data/azure/*.json; do
  n=$(basename "$f" .json)
  jq -r .hcl_report "$f" | basenc --base64url -d > "$1/hcl-$n"
  size=$(od -An -tu4 -j $((32 + 1184 + 16)) -N4 "$1/hcl-$n" | tr -d ' ')
  tail -c +$((32 + 1184 + 20 + 1)) "$1/hcl-$n" | head -c "$size" > "$1/runtime-$n"
done
