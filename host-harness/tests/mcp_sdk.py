"""An official MCP client (the `mcp` package from PyPI) against `connector-harness mcp-serve`.

Usage: mcp_sdk.py MODE TARGET
  MODE    `auto` (the SDK probes `server/discover`, the 2026-07-28 era) or `legacy` (the
          `initialize` handshake)
  TARGET  `http://…/mcp` (Streamable HTTP) or a JSON list: the stdio server's command line

Lists the tools, calls `list_workflows` and a call with a bad argument, and prints what it
saw as one JSON object for host-harness/tests/mcp.rs to judge.
"""

import asyncio
import json
import sys

from mcp import Client, StdioServerParameters


async def main(mode: str, target: str) -> None:
    if target.startswith("http"):
        server = target
    else:
        command = json.loads(target)
        server = StdioServerParameters(command=command[0], args=command[1:])
    async with Client(server, mode=mode) as client:
        tools = (await client.list_tools()).tools
        listed = await client.call_tool("list_workflows", {"max_items": 2})
        refused = await client.call_tool("list_workflows", {"page_size": 2})
        by_name = {t.name: t for t in tools}
        print(
            json.dumps(
                {
                    "protocol_version": client.protocol_version,
                    "server": client.server_info.name if client.server_info else None,
                    "tools": len(tools),
                    "list_workflows_output_schema": by_name["list_workflows"].output_schema,
                    "listed": {
                        "is_error": listed.is_error,
                        "structured": listed.structured_content,
                    },
                    "refused": {
                        "is_error": refused.is_error,
                        "text": refused.content[0].text if refused.content else None,
                    },
                }
            )
        )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
