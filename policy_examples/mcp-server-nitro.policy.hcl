# What an MCP server in the Nitro enclave may read: its database credentials.
path "secret/data/mcp/nitro/*" {
  capabilities = ["read"]
}
