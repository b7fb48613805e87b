"""The MCP client side of the example, on the official SDK: lists the server's tools and calls one.

    python client.py http://127.0.0.1:8765/mcp sign_jwt '{"subject": "alice"}'

Prints {"tools": [...], "result": <the tool's result>} as JSON; exits 1 when the server cannot be
reached or the call fails.
"""

import asyncio
import json
import sys

from mcp import Client


async def call(url: str, tool: str, arguments: dict) -> dict:
    async with Client(url) as client:
        tools = await client.list_tools()
        result = await client.call_tool(tool, arguments)
        if result.is_error:
            raise RuntimeError(f"{tool}: {result.content}")
        value = result.structured_content
        if value is None:  # unstructured: text, which may itself be JSON (a dict result)
            value = "".join(getattr(c, "text", "") for c in result.content)
            try:
                value = json.loads(value)
            except ValueError:
                pass
        elif set(value) == {"result"}:
            value = value["result"]
        return {"tools": sorted(t.name for t in tools.tools), "result": value}


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    arguments = json.loads(sys.argv[3]) if len(sys.argv) == 4 else {}
    try:
        out = asyncio.run(call(sys.argv[1], sys.argv[2], arguments))
    except Exception as e:  # any failure to reach or call the server is the client's answer
        print(f"mcp-client: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
