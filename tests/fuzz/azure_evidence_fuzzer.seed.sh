# Seeds the corpus directory $1 for azure_evidence_fuzzer: the real Azure vTPM evidence JSON.
cp tests/data/azure/*.json "$1/"
