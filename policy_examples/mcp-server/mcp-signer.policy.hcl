# What the attested MCP JWT signer may read: its signing key, nothing else.
path "secret/data/mcp/signer/*" {
  capabilities = ["read"]
}
