# What an MCP server in the TDX confidential VM may read: its own API key, nothing else.
path "secret/data/mcp/tdx/*" {
  capabilities = ["read"]
}
