"""An MCP server whose tool needs a credential it never stores: a JWT signing key.

The key comes from the process environment (MCP_JWT_SIGNING_KEY), put there by OpenBao/Vault Agent
in process-supervisor mode (agent.hcl: env_template + exec) after the workload logged in with its
attested TLS client certificate. Nothing is read from or written to disk; without the key the
server refuses to start, so a workload that failed attestation never serves a tool call.

    MCP_JWT_SIGNING_KEY=... python server.py --port 8765     # streamable HTTP on 127.0.0.1:8765/mcp
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time

from mcp.server.mcpserver import MCPServer

KEY_VARIABLE = "MCP_JWT_SIGNING_KEY"
ISSUER = "attested-mcp-signer"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_hs256(key: bytes, claims: dict) -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def build(key: bytes) -> MCPServer:
    server = MCPServer("attested-jwt-signer")
    started = int(time.time())

    @server.tool()
    def sign_jwt(subject: str, ttl_seconds: int = 300) -> str:
        """Signs a short-lived HS256 JWT for `subject` with the key released to this attested server."""
        now = int(time.time())
        ttl = max(1, min(ttl_seconds, 3600))
        return sign_hs256(key, {"iss": ISSUER, "sub": subject, "iat": now, "exp": now + ttl})

    @server.tool()
    def server_info() -> dict:
        """The process id, its start time and the key's fingerprint (SHA-256, first 16 hex digits; never the key)."""
        return {"pid": os.getpid(), "started": started, "key_sha256_prefix": hashlib.sha256(key).hexdigest()[:16]}

    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    key = os.environ.get(KEY_VARIABLE, "")
    if not key:
        print(f"mcp-server: {KEY_VARIABLE} is not set: refusing to start without the credential "
              "(run me under the agent, docs/workloads.md)", file=sys.stderr)
        return 2
    build(key.encode()).run("streamable-http", host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
