# What an MCP server in the SEV-SNP VM may read: the key it signs JWTs with.
path "secret/data/mcp/snp/*" {
  capabilities = ["read"]
}
